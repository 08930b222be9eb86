"""The one place that picks the LLM backend named by the settings (`llm.backend`)."""

from __future__ import annotations

import os

from vaultrag.config.errors import ConfigError
from vaultrag.service.llm.base import LLMBackend
from vaultrag.service.llm.ollama import OllamaBackend
from vaultrag.service.llm.openai_compat import OpenAIBackend

OLLAMA_DEFAULT_URL = "http://127.0.0.1:11434"


def make_backend(backend: str, base_url: str, api_key: str = "", keep_alive: str = "5m", auto_pull: bool = False,
                 timeout_s: float = 300) -> LLMBackend:
    """The backend named by `llm.backend`.

    `ollama`: an empty `base_url` means the `OLLAMA_HOST` environment variable (as the `ollama` CLI reads it,
    e.g. "127.0.0.1:11434" or "http://host:port"), else http://127.0.0.1:11434. `api_key` is not used.
    `openai`: `base_url` is required and ends in the server's API root, e.g. http://127.0.0.1:8080/v1;
    `api_key`, when set, is sent as a Bearer token; `keep_alive` and `auto_pull` do not apply.
    `timeout_s` bounds each wait for the server (connecting, or the next piece of a reply).
    """
    if backend == "ollama":
        host = base_url or os.environ.get("OLLAMA_HOST", "") or OLLAMA_DEFAULT_URL
        return OllamaBackend(host, keep_alive=keep_alive, auto_pull=auto_pull, timeout_s=timeout_s)
    if backend == "openai":
        if not base_url:
            raise ConfigError("llm.base_url is empty: backend 'openai' needs the server's API URL, "
                              "e.g. http://127.0.0.1:8080/v1 (llama.cpp) or http://127.0.0.1:1234/v1 (LM Studio)")
        return OpenAIBackend(base_url, api_key=api_key, timeout_s=timeout_s)
    raise ConfigError(f"llm.backend = {backend!r} is not a backend: use 'ollama' or 'openai'")
