"""The Ollama provider: vectors from Ollama's `/api/embed`, through the official client, on whatever Ollama runs on
(often the user's GPU).

The model's context length is read from `/api/show` (model_info's `<architecture>.context_length`) and sent as
`num_ctx`, and chunks are sized below it (ingest.remote_embedding): Ollama 0.13.5 and later ignore `truncate` and
fail a request with an input longer than the context. A model not pulled says `ollama pull <model>`; vaultrag never
pulls one. Ollama not running, or failing, raises EmbedderUnavailable: a sync stops before writing the batch in hand
and the daemon retries it (nothing indexed is lost); a search says Ollama is down (HTTP 503).

Vectors are recorded under `ollama:<name:tag>`, so they are never mixed with another provider's.
"""

from __future__ import annotations

import threading

import httpx
import ollama

from vaultrag.config.ollama_host import ollama_host
from vaultrag.ingest.errors import ModelUnavailable
from vaultrag.ingest.remote_embedding import RemoteEmbedder, RemoteFiles, TooLong, Unanswered

PREFIX = "ollama:"
BATCH = 32  # texts per /api/embed request
TIMEOUT_S = 120  # a first request waits while Ollama loads the model
TRANSPORT_ERRORS = (ConnectionError, httpx.TransportError)  # what the client raises when Ollama is not there
START_HINT = "start Ollama (`ollama serve`, or open the Ollama app); indexing resumes by itself"


def tagged(name: str) -> str:
    """Ollama's default tag: "nomic-embed-text" is "nomic-embed-text:latest"."""
    name = name.removeprefix(PREFIX)
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


class OllamaEmbedder(RemoteEmbedder):
    """An embedding model in the Ollama at `base_url` ("" : OLLAMA_HOST, else http://127.0.0.1:11434)."""

    def __init__(self, model: str, base_url: str = "", keep_alive: str = "5m", batch_size: int = 0,
                 timeout_s: float = TIMEOUT_S):
        self.model = tagged(model)
        self.url = ollama_host(base_url)
        self._keep_alive = keep_alive
        self._batch = batch_size or BATCH
        self._client = ollama.Client(host=self.url, timeout=timeout_s)
        self._shown: int | None = None
        self._showing = threading.Lock()
        self.files = RemoteFiles(PREFIX + self.model, self.context_length)
        self.where = f"Ollama at {self.url}"

    def context_length(self) -> int:
        """Tokens per input the model takes, from `/api/show` (asked once)."""
        with self._showing:
            if self._shown is None:
                self._shown = self._answered(self._show)
            return self._shown

    def _show(self) -> int:
        try:
            info = self._client.show(self.model).modelinfo or {}
        except (ollama.ResponseError, *TRANSPORT_ERRORS) as exc:
            raise self._error(exc) from None
        lengths = [int(v) for k, v in info.items() if k.endswith(".context_length") and v]
        if not lengths:
            raise ModelUnavailable(f"{self.where} gives no context length for {self.model} (/api/show); "
                                   "is it an embedding model?")
        return min(lengths)

    def _request(self, texts: list[str]) -> list[list[float]]:
        options = {"num_ctx": self.context_length()}
        try:
            reply = self._client.embed(model=self.model, input=texts, keep_alive=self._keep_alive, options=options)
        except (ollama.ResponseError, *TRANSPORT_ERRORS) as exc:
            if isinstance(exc, ollama.ResponseError) and _too_long(exc.error):
                raise TooLong() from None
            raise self._error(exc) from None
        return [list(row) for row in reply.embeddings]

    def _error(self, exc: Exception) -> Exception:
        if isinstance(exc, ollama.ResponseError) and (exc.status_code == 404 or "not found" in exc.error.lower()):
            return ModelUnavailable(f"{self.where} does not have the embedding model {self.model}: pull it with "
                                    f"`ollama pull {self.model}` (vaultrag never pulls one by itself)")
        if isinstance(exc, ollama.ResponseError) and 400 <= exc.status_code < 500:
            return ModelUnavailable(f"{self.where} cannot embed with {self.model}: {exc.error}")
        if isinstance(exc, ollama.ResponseError):
            return Unanswered(f"{self.where} failed to embed with {self.model} ({exc.error}); indexing pauses and "
                              "resumes by itself")
        return Unanswered(f"Ollama is not reachable at {self.url}: {START_HINT}")


def _too_long(message: str) -> bool:
    """Ollama's refusal of an over-long input ("input length exceeds the context length", and earlier wordings)."""
    message = message.lower()
    return "context" in message and ("exceed" in message or "too long" in message or "length" in message)
