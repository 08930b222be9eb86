"""The OpenAI-compatible provider: vectors from any server's `/v1/embeddings` (LM Studio, llama.cpp's server, vLLM,
TEI, Infinity, another vaultrag daemon), for users who run embeddings on another machine.

Requests go over httpx in batches; a refused connection, a timeout, 429 or a 5xx is retried with backoff (`retries`
times, ingest.remote_embedding), then raises EmbedderUnavailable: a sync stops before writing the batch in hand and the
daemon retries later; a search answers 503. Such servers do not say their context length, so chunks are sized to
`embedding.chunk_tokens` or DEFAULT_CHUNK_TOKENS (which a 512-token model holds even with a different tokenizer);
a text the server still refuses as too long is embedded by a shorter prefix (ingest.remote_embedding).

Vectors are recorded under `openai:<model>`: a change of server keeps the index while the model name is the same.
"""

from __future__ import annotations

import httpx

from vaultrag.config.errors import ConfigError
from vaultrag.config.openai_errors import error_message
from vaultrag.ingest.errors import ModelUnavailable
from vaultrag.ingest.remote_embedding import RemoteEmbedder, RemoteFiles, TooLong, Unanswered

PREFIX = "openai:"
BATCH = 64  # texts per request
DEFAULT_CHUNK_TOKENS = 256
TIMEOUT_S = 120
_RETRIED = {408, 429, 500, 502, 503, 504}


class OpenAIEmbedder(RemoteEmbedder):
    """`model` on the OpenAI-compatible server at `base_url` (its API root, e.g. http://host:1234/v1)."""

    retries = 4  # then EmbedderUnavailable: a server elsewhere may be restarting, or busy

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
        limit = chunk_tokens or DEFAULT_CHUNK_TOKENS
        self.files = RemoteFiles(PREFIX + self.model, lambda: limit, scaled=False)
        self.where = f"the embedding server at {self.url}"

    def _request(self, texts: list[str]) -> list[list[float]]:
        try:
            response = self._client.post("embeddings", json={"model": self.model, "input": texts})
        except httpx.TransportError as exc:
            raise self._unanswered(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__) from None
        if response.status_code in _RETRIED:
            raise self._unanswered(f"HTTP {response.status_code}")
        message = error_message(response)
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

    def _unanswered(self, reason: str) -> Unanswered:
        return Unanswered(f"{self.where} is not answering ({reason}, {self.retries + 1} tries); indexing pauses and "
                          "resumes by itself", reason)
