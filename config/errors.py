"""The root error class of vaultrag and its tree; every layer raises a subclass.

    VaultragError              something a person has to fix; the message says what and how
    ├── ConfigError            (config.errors) a setting is unknown or has a bad value
    ├── ModelUnavailable       (ingest.errors) the embedding model cannot be found or loaded
    ├── EmbedderUnavailable    (ingest.errors) the embedding server (Ollama, OpenAI-compatible) is down or failing
    ├── StoreUnavailable       (ingest.errors) the vector store cannot be opened or reached
    ├── IndexBusy              (ingest.errors) another process is writing this index
    ├── DataDirUnwritable      (ingest.errors) the data dir's disk is full or read-only (nothing is lost)
    ├── PullRefused, PullFailed (ingest.errors) `vaultrag models pull` was given no model id, or the download failed
    ├── DaemonError            (service.daemon.client) the running daemon refused or failed a CLI request
    ├── PortUnavailable        (service.daemon.serve) the daemon's address cannot be bound
    ├── RequestRefused         (service.answering.errors) a chat request for a model not offered, or over a limit
    ├── ToolFailure            (service.tools) a tool call cannot be done as asked (no such note, writes off...)
    ├── LLMError               (service.llm.base) the LLM server failed; LLMUnavailable (not reachable) and
    │                          ModelNotFound (not pulled) say how to fix it
    └── ServiceError           (service.ops.system_service) the user service could not be installed or queried

Errors are translated only at the edges: service.http.errors maps each to a status code and OpenAI's error shape, the
CLI turns each into a one-line message and exit code 1.
"""


class VaultragError(Exception):
    """Something a person has to fix; the message says what and how."""


class ConfigError(VaultragError):
    """A setting is unknown or has a bad value; the message names the key, the value and what is allowed."""
