"""The LLM backend interface: one `chat` that streams text, its option and usage types, and its errors.

    LLMError                   (this module) the LLM server failed a request; the message says what to do
    ├── LLMUnavailable         the server cannot be reached, or went away mid-answer
    └── ModelNotFound          the server does not have the model

Two backends implement `LLMBackend`: `vaultrag.service.llm.ollama` (Ollama, through its official client) and
`vaultrag.service.llm.openai_compat` (any OpenAI-compatible server: LM Studio, llama.cpp's server, vLLM, Ollama's /v1).
`vaultrag.service.llm.factory` picks one from settings. Neither logs message contents or keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generator, Protocol

from vaultrag.config.errors import VaultragError

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


@dataclass(frozen=True)
class ModelInfo:
    """A model the server has; size and quantization where the server says them (Ollama does)."""

    name: str
    size_bytes: int = 0
    quantization: str = ""
    parameters: str = ""


@dataclass(frozen=True)
class LoadedModel:
    """A model the server holds in memory now, and how much of it is in GPU memory."""

    name: str
    size_bytes: int = 0
    vram_bytes: int = 0


@dataclass(frozen=True)
class Inventory:
    """What an LLM server runs and holds: its version ("" when it does not say), its models, those loaded now."""

    version: str
    models: list[ModelInfo]
    loaded: list[LoadedModel]


class LLMError(VaultragError):
    """The LLM server failed a request; the message says what happened and what to do."""


class LLMUnavailable(LLMError):
    """The LLM server cannot be reached, or went away mid-answer; the message names its URL and how to start it."""


class ModelNotFound(LLMError):
    """The LLM server does not have the model; the message gives the command that fetches it."""


class LLMBackend(Protocol):
    """A local LLM server. `chat` is the one method answering needs; the others tell what the server holds."""

    name: str
    url: str

    def chat(self, model: str, messages: list[dict], options: ChatOptions,
             num_ctx: int) -> Generator[str | Usage, None, None]:
        """Stream the reply's text deltas, then exactly one Usage. Raises LLMError subclasses, also mid-stream.
        Closing the generator early closes the connection, which stops the server generating."""

    def models(self) -> list[str]:
        """Names of the models the server can answer with now."""

    def ensure_model(self, model: str) -> None:
        """Return when the server has `model`; raise ModelNotFound, or pull it first where the backend can."""

    def inventory(self) -> Inventory:
        """The server's version, models and loaded models, for `vaultrag doctor`. Raises LLMError subclasses."""
