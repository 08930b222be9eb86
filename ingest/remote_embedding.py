"""What the embedding providers that run elsewhere (ingest.ollama_embedder, ingest.openai_embedder) share: a token
counter for sizing chunks before the server sees them, and `RemoteEmbedder`, which sends texts in batches that never
exceed the server's limit, retries what a later try may cure, and says when the server is unavailable. A provider
supplies only its request.

The server's own tokenizer is not here, so chunks are counted with the bundled all-MiniLM-L6-v2's WordPiece
tokenizer (nomic-embed-text and mxbai-embed-large use the same vocabulary; XLM-R and Qwen tokenizers give fewer
tokens for most text) and sized to SAFETY of the server's limit. Should a text still be too long for the server,
a shorter prefix of it is embedded (halved until it fits), so no request fails for length.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from functools import cached_property
from typing import Callable, TypeVar

import numpy as np

from vaultrag.ingest.embedder import BUNDLED_MODEL, EmbedderBase, locate_model
from vaultrag.ingest.errors import EmbedderUnavailable, ModelUnavailable
from vaultrag.ingest.tokens import TokenCounter

log = logging.getLogger(__name__)

SAFETY = 0.75  # of the server's context length, in the local counter's tokens, left for a chunk
CHUNK_TOKENS = 512  # at most, however long the server's context: longer chunks retrieve worse
SHRINK_TRIES = 4  # a text the server finds too long is halved at most this many times
T = TypeVar("T")


class TooLong(Exception):
    """The server refused a request because an input is longer than its context."""


class Unanswered(Exception):
    """The server did not answer a request (not there, timed out, busy, failing): a later try may be answered. The
    message is what a paused sync and a search's 503 say once the tries are spent; `reason` is logged per retry."""

    def __init__(self, message: str, reason: str = ""):
        super().__init__(message)
        self.reason = reason or message


def counter() -> TokenCounter:
    """The bundled all-MiniLM-L6-v2's tokenizer (its package is a dependency; no model weights load)."""
    return locate_model(BUNDLED_MODEL).tokens


def chunk_limit(context_tokens: int, special_tokens: int) -> int:
    """The max_seq_length to give sync for a server whose limit is `context_tokens`: chunk texts then hold at most
    SAFETY of it (and at most CHUNK_TOKENS), counted locally."""
    return max(min(int(context_tokens * SAFETY), CHUNK_TOKENS + special_tokens), special_tokens + 8)


@dataclass
class RemoteFiles:
    """ModelInfo (ingest.embedders) for a model on a server: `context` is asked of the server when first needed."""

    model_id: str
    context: Callable[[], int]  # the server's limit in tokens per text
    scaled: bool = True  # False: `context` is already the chunk budget (a setting), not the server's own limit

    @cached_property
    def tokens(self) -> TokenCounter:
        return counter()

    @cached_property
    def max_seq_length(self) -> int:
        if not self.scaled:
            return self.context() + self.tokens.special_tokens
        return chunk_limit(self.context(), self.tokens.special_tokens)


class RemoteEmbedder(EmbedderBase):
    """Normalised float32 vectors from a server. A provider sets `files` and `_batch` (texts per request), names
    the server in `where`, and implements `_request`. A request left Unanswered is tried `retries` times more,
    `backoff_s` apart and doubling, then raises EmbedderUnavailable."""

    retries = 0
    backoff_s = 0.5
    files: RemoteFiles
    where: str  # the server, as messages name it
    _batch: int

    def _request(self, texts: list[str]) -> list[list[float]]:
        """One request's vectors, in the order of `texts`; raises TooLong, Unanswered, or ModelUnavailable (what no
        retry cures: the model is missing, the request is refused)."""
        raise NotImplementedError

    def _vectors(self, texts: list[str], query: bool) -> np.ndarray:
        """Sent `_batch` at a time; a batch refused as too long is sent text by text, and a text still refused is
        cut to half its tokens until it fits (logged: its vector is of a prefix)."""
        rows: list[list[float]] = []
        for start in range(0, len(texts), self._batch):
            part = texts[start:start + self._batch]
            try:
                rows.extend(self._send(part))
            except TooLong:
                rows.extend(self._one_by_one(part))
        vectors = np.asarray(rows, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != len(texts):
            raise ModelUnavailable(f"{self.where} answered {len(vectors)} vectors for {len(texts)} texts")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms > 0, norms, 1.0)

    def _send(self, texts: list[str]) -> list[list[float]]:
        return self._answered(lambda: self._request(texts))

    def _answered(self, request: Callable[[], T]) -> T:
        """What `request` returns, tried again while it is Unanswered."""
        wait = self.backoff_s
        for attempt in range(self.retries + 1):
            try:
                return request()
            except Unanswered as exc:
                failure = exc
            if attempt < self.retries:
                log.warning("%s: %s; retrying in %.1f s", self.where, failure.reason, wait)
                time.sleep(wait)
                wait *= 2
        raise EmbedderUnavailable(str(failure)) from None

    def _one_by_one(self, texts: list[str]) -> list[list[float]]:
        tokens = self.files.tokens
        rows = []
        for text in texts:
            for _ in range(SHRINK_TRIES + 1):
                try:
                    rows.extend(self._send([text]))
                    break
                except TooLong:
                    count = tokens.count([text])[0]
                    log.warning("%s found a chunk of %d tokens too long; embedding its first half", self.where, count)
                    text = text[:tokens.prefix_chars(text, max(count // 2, 1))]
            else:
                raise ModelUnavailable(f"{self.where} refuses even a {len(text)}-character text as too long; "
                                       "lower embedding.chunk_tokens")
        return rows
