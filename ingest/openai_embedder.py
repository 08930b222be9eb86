"""The OpenAI-compatible provider: vectors from any server's `/v1/embeddings` (LM Studio, llama.cpp's server, vLLM,
TEI, Infinity, another vaultrag daemon), for users who run embeddings on another machine.

Requests go over httpx in batches; a refused connection, a timeout, 429 or a 5xx is retried with backoff (RETRIES
times, BACKOFF_S doubling), then raises EmbedderUnavailable: a sync stops before writing the batch in hand and the
daemon retries later; a search answers 503. Such servers do not say their context length, so chunks are sized to
`embedding.chunk_tokens` or DEFAULT_CHUNK_TOKENS (which a 512-token model holds even with a different tokenizer);
a text the server still refuses as too long is embedded by a shorter prefix (ingest.remote_embedding).

Vectors are recorded under `openai:<model>`: a change of server keeps the index while the model name is the same.
"""

from __future__ import annotations

import logging
import threading
import time

import httpx
import numpy as np

from vaultrag.config.errors import ConfigError
from vaultrag.ingest.embedder import EmbedderBase
from vaultrag.ingest.errors import EmbedderUnavailable, ModelUnavailable
from vaultrag.ingest.remote_embedding import RemoteFiles, TooLong, embed_fitting

log = logging.getLogger(__name__)

PREFIX = "openai:"
BATCH = 64  # texts per request
DEFAULT_CHUNK_TOKENS = 256
RETRIES = 4
BACKOFF_S = 0.5
TIMEOUT_S = 120
_RETRIED = {408, 429, 500, 502, 503, 504}


class OpenAIEmbedder(EmbedderBase):
    """`model` on the OpenAI-compatible server at `base_url` (its API root, e.g. http://host:1234/v1)."""

    def __init__(self, model: str, base_url: str, api_key: str = "", batch_size: int = 0, chunk_tokens: int = 0,
                 timeout_s: float = TIMEOUT_S):
        if not base_url:
            raise ConfigError('embedding.base_url is empty: provider "openai" needs the server\'s API URL, e.g. '
                              "http://192.168.1.20:1234/v1 (LM Studio) or http://127.0.0.1:8080/v1 (llama.cpp)")
        self.model = model.removeprefix(PREFIX)
        self.url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(base_url=self.url + "/", headers=headers, timeout=timeout_s)
        self._batch = batch_size or BATCH
        self._dimension = 0
        self._dimension_lock = threading.Lock()
        limit = chunk_tokens or DEFAULT_CHUNK_TOKENS
        self.files = RemoteFiles(PREFIX + self.model, lambda: limit, scaled=False)

    @property
    def model_id(self) -> str:
        return self.files.model_id

    @property
    def dimension(self) -> int:
        with self._dimension_lock:
            if not self._dimension:
                self._dimension = self.embed_query(["dimension"]).shape[1]
            return self._dimension

    @property
    def where(self) -> str:
        return f"the embedding server at {self.url}"

    def _vectors(self, texts: list[str], query: bool) -> np.ndarray:
        return embed_fitting(texts, self._send, self._batch, self.files.tokens, self.where)

    def _send(self, texts: list[str]) -> list[list[float]]:
        wait = BACKOFF_S
        for attempt in range(RETRIES + 1):
            failure = self._try(texts)
            if not isinstance(failure, str):
                return failure
            if attempt < RETRIES:
                log.warning("%s: %s; retrying in %.1f s", self.where, failure, wait)
                time.sleep(wait)
                wait *= 2
        raise EmbedderUnavailable(f"{self.where} is not answering ({failure}, {RETRIES + 1} tries); indexing "
                                  "pauses and resumes by itself")

    def _try(self, texts: list[str]) -> list[list[float]] | str:
        """The vectors, or why a retry may help."""
        try:
            response = self._client.post("embeddings", json={"model": self.model, "input": texts})
        except httpx.TransportError as exc:
            return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if response.status_code in _RETRIED:
            return f"HTTP {response.status_code}"
        message = _message(response)
        if response.status_code == 404 and "model" in message.lower():
            raise ModelUnavailable(f"{self.where} does not serve the embedding model {self.model!r}: {message}")
        if response.status_code in (400, 413) and ("context" in message.lower() or "too long" in message.lower()
                                                   or "token" in message.lower()):
            raise TooLong()
        if response.status_code >= 400:
            raise ModelUnavailable(f"{self.where} refused to embed with {self.model!r}: HTTP "
                                   f"{response.status_code} {message}")
        try:
            data = sorted(response.json()["data"], key=lambda item: item["index"])
            return [item["embedding"] for item in data]
        except (ValueError, KeyError, TypeError):
            raise ModelUnavailable(f"{self.where} did not answer in OpenAI's embeddings format") from None


def _message(response: httpx.Response) -> str:
    """The error message of an OpenAI-style error body, else the start of the body."""
    try:
        error = response.json().get("error")
        return str(error.get("message") if isinstance(error, dict) else error)
    except (ValueError, AttributeError):
        return response.text[:200]
