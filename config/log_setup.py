"""Logging that every entry point shares: one line per event, and libraries that would log note text kept quiet."""

from __future__ import annotations

import logging

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# At INFO or DEBUG these log requests, responses or events whole (questions, excerpts of notes, keys in headers):
# sse_starlette logs every event it sends, httpcore every connection, mcp whole JSON-RPC messages.
QUIET_LIBRARIES = ("httpx", "httpcore", "chromadb", "sentence_transformers", "transformers", "huggingface_hub",
                   "uvicorn.access", "sse_starlette", "mcp", "multipart")


def quiet_libraries() -> None:
    """Keep the libraries in QUIET_LIBRARIES at WARNING, whatever log.level says for vaultrag's own lines."""
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
