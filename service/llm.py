"""The LLM backend interface: one `chat` that streams text, and the one place that picks a backend from settings.

    LLMError                   (this module) the LLM server failed a request; the message says what to do
    ├── LLMUnavailable         the server cannot be reached, or went away mid-answer
    └── ModelNotFound          the server does not have the model

Two backends implement `LLMBackend`: `service.llm_ollama` (Ollama, through its official client) and
`service.llm_openai` (any OpenAI-compatible server: LM Studio, llama.cpp's server, vLLM, Ollama's /v1).
Neither logs message contents or keys.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterator, Protocol

from config.errors import ConfigError, VaultragError

OLLAMA_DEFAULT_URL = "http://127.0.0.1:11434"


@dataclass(frozen=True)
class ChatOptions:
    """Sampling settings for one answer; None leaves the server's default."""

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: list[str] | None = None
    seed: int | None = None


@dataclass(frozen=True)
class Usage:
    """Tokens the server counted for one answer (0 where it counts none)."""

    prompt_tokens: int
    completion_tokens: int


class LLMError(VaultragError):
    """The LLM server failed a request; the message says what happened and what to do."""


class LLMUnavailable(LLMError):
    """The LLM server cannot be reached, or went away mid-answer; the message names its URL and how to start it."""


class ModelNotFound(LLMError):
    """The LLM server does not have the model; the message gives the command that fetches it."""


class LLMBackend(Protocol):
    """A local LLM server. `chat` is the one method answering needs; the other two check what the server holds."""

    name: str
    url: str

    def chat(self, model: str, messages: list[dict], options: ChatOptions, num_ctx: int) -> Iterator[str | Usage]:
        """Stream the reply's text deltas, then exactly one Usage. Raises LLMError subclasses, also mid-stream."""

    def models(self) -> list[str]:
        """Names of the models the server can answer with now."""

    def ensure_model(self, model: str) -> None:
        """Return when the server has `model`; raise ModelNotFound, or pull it first where the backend can."""


def make_backend(backend: str, base_url: str, api_key: str = "", keep_alive: str = "5m", auto_pull: bool = False,
                 timeout_s: float = 300) -> LLMBackend:
    """The backend named by `llm.backend`.

    `ollama`: an empty `base_url` means the `OLLAMA_HOST` environment variable (as the `ollama` CLI reads it,
    e.g. "127.0.0.1:11434" or "http://host:port"), else http://127.0.0.1:11434. `api_key` is not used.
    `openai`: `base_url` is required and ends in the server's API root, e.g. http://127.0.0.1:8080/v1;
    `api_key`, when set, is sent as a Bearer token; `keep_alive` and `auto_pull` do not apply.
    `timeout_s` bounds each wait for the server (connecting, or the next piece of a reply).
    """
    # Imported here: both backend modules import this module's types.
    if backend == "ollama":
        from service.llm_ollama import OllamaBackend

        host = base_url or os.environ.get("OLLAMA_HOST", "") or OLLAMA_DEFAULT_URL
        return OllamaBackend(host, keep_alive=keep_alive, auto_pull=auto_pull, timeout_s=timeout_s)
    if backend == "openai":
        from service.llm_openai import OpenAIBackend

        if not base_url:
            raise ConfigError("llm.base_url is empty: backend 'openai' needs the server's API URL, "
                              "e.g. http://127.0.0.1:8080/v1 (llama.cpp) or http://127.0.0.1:1234/v1 (LM Studio)")
        return OpenAIBackend(base_url, api_key=api_key, timeout_s=timeout_s)
    raise ConfigError(f"llm.backend = {backend!r} is not a backend: use 'ollama' or 'openai'")
