"""What the embedding providers that run elsewhere (ingest.ollama_embedder, ingest.openai_embedder) share: a token
counter for sizing chunks before the server sees them, and sending texts in batches that never exceed its limit.

The server's own tokenizer is not here, so chunks are counted with the bundled all-MiniLM-L6-v2's WordPiece
tokenizer (nomic-embed-text and mxbai-embed-large use the same vocabulary; XLM-R and Qwen tokenizers give fewer
tokens for most text) and sized to SAFETY of the server's limit. Should a text still be too long for the server,
`embed_fitting` embeds a shorter prefix of it (halved until it fits), so no request fails for length.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from typing import Callable

import numpy as np

from vaultrag.ingest.errors import ModelUnavailable
from vaultrag.ingest.tokens import TokenCounter

log = logging.getLogger(__name__)

SAFETY = 0.75  # of the server's context length, in the local counter's tokens, left for a chunk
CHUNK_TOKENS = 512  # at most, however long the server's context: longer chunks retrieve worse
SHRINK_TRIES = 4  # a text the server finds too long is halved at most this many times


class TooLong(Exception):
    """The server refused a request because an input is longer than its context."""


def counter() -> TokenCounter:
    """The bundled all-MiniLM-L6-v2's tokenizer (its package is a dependency; no model weights load)."""
    from vaultrag.ingest.embedder import BUNDLED_MODEL, locate_model

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


def embed_fitting(texts: list[str], send: Callable[[list[str]], list[list[float]]], batch: int,
                  tokens: TokenCounter, where: str) -> np.ndarray:
    """Normalised float32 vectors of `texts`, sent `batch` at a time; a batch refused as too long is sent text by
    text, and a text still refused is cut to half its tokens until it fits (logged: its vector is of a prefix)."""
    rows: list[list[float]] = []
    for start in range(0, len(texts), batch):
        part = texts[start:start + batch]
        try:
            rows.extend(send(part))
        except TooLong:
            rows.extend(_one_by_one(part, send, tokens, where))
    vectors = np.asarray(rows, dtype=np.float32)
    if vectors.ndim != 2 or len(vectors) != len(texts):
        raise ModelUnavailable(f"{where} answered {len(vectors)} vectors for {len(texts)} texts")
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def _one_by_one(texts: list[str], send, tokens: TokenCounter, where: str) -> list[list[float]]:
    rows = []
    for text in texts:
        for _ in range(SHRINK_TRIES + 1):
            try:
                rows.extend(send([text]))
                break
            except TooLong:
                count = tokens.count([text])[0]
                log.warning("%s found a chunk of %d tokens too long; embedding its first half", where, count)
                text = text[:tokens.prefix_chars(text, max(count // 2, 1))]
        else:
            raise ModelUnavailable(f"{where} refuses even a {len(text)}-character text as too long; "
                                   "lower embedding.chunk_tokens")
    return rows
