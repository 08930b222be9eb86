"""What users talk to: the CLI (and later the daemon and HTTP API). Builds on config/ and ingest/."""
