"""What users talk to, in rooms: http, llm, search, answering, daemon, cli, ops. Builds on config/ and ingest/."""
