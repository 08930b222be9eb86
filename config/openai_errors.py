"""What an OpenAI-compatible server says went wrong: the message of its error body, for the embedder and the LLM."""

from __future__ import annotations

import httpx

MAX_CHARS = 300


def error_message(source: httpx.Response | dict) -> str:
    """The message of an OpenAI-style error body (`{"error": {"message": ...}}`, `{"error": "..."}`), a streamed
    error chunk's, or the start of a body that is not JSON."""
    try:
        body = source.json() if isinstance(source, httpx.Response) else source
    except ValueError:
        return source.text[:MAX_CHARS]
    error = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(error, dict):
        error = error.get("message", error)
    return str(error)[:MAX_CHARS]
