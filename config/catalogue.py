"""The model catalogue: models.toml (embedding models, Ollama's embedding models, rerankers, Ollama LLMs, runtime
memory figures) as dataclasses.

The figures and their sources live in models.toml; this module only reads and checks them.
"""

from __future__ import annotations

import tomllib
from dataclasses import MISSING, dataclass, fields
from functools import lru_cache
from pathlib import Path

from vaultrag.config.errors import ConfigError

MODELS_TOML = Path(__file__).with_name("models.toml")


@dataclass(frozen=True)
class Runtime:
    """Memory that is not a model's own: the daemon, Ollama's runner, the Apple GPU's share of unified memory."""

    vaultrag_base_gb: float
    ollama_overhead_gb: float
    apple_gpu_share: float
    apple_gpu_share_large: float
    apple_gpu_large_from_gb: float
    onnx_fp32_speed: float = 1.0  # the bundled model's texts/s in ONNX Runtime against torch's, on a CPU
    onnx_int8_speed: float = 1.0
    onnx_source: str = ""

    def apple_gpu_gb(self, unified_gb: float) -> float:
        """How much of `unified_gb` Metal lets the GPU use."""
        share = self.apple_gpu_share_large if unified_gb >= self.apple_gpu_large_from_gb else self.apple_gpu_share
        return unified_gb * share


DEFAULT_ANSWER_MIN_SCORE = 0.3  # for a model the catalogue gives no calibrated figure


@dataclass(frozen=True)
class EmbeddingModel:
    id: str
    name: str
    dimensions: int
    max_tokens: int
    languages: str  # "en" or "multi"
    ram_mb: int
    relative_speed: float  # texts per second against all-MiniLM-L6-v2
    rank: int  # 1 = the strongest retrieval in the catalogue
    retrieval_score: float
    retrieval_benchmark: str
    retrieval_source: str
    query_prefix: str = ""
    passage_prefix: str = ""
    ollama: str = ""
    bundled_by: str = ""
    default: bool = False
    answer_min_score: float = DEFAULT_ANSWER_MIN_SCORE  # answer.min_score when not set: see models.toml
    # measured on the same machine by vaultrag's benches (models.toml says which); 0: not measured
    measured_texts_per_s: float = 0.0  # indexing on a CPU, in the runtime auto uses
    measured_scifact: float = 0.0  # hybrid nDCG@10 on a SciFact train subset
    measured_fixture: float = 0.0  # hybrid recall@5 on tests/fixtures/multilingual, eight languages in one vault
    measured_source: str = ""

    @property
    def measured(self) -> bool:
        return self.measured_texts_per_s > 0

    @property
    def multilingual(self) -> bool:
        return self.languages == "multi"

    @property
    def ram_gb(self) -> float:
        return self.ram_mb / 1024


@dataclass(frozen=True)
class OllamaEmbeddingModel:
    """An embedding model in the Ollama library; `catalogue_id` names its [[embedding]] entry, if any."""

    tag: str
    languages: str  # "en" or "multi"
    dimensions: int
    context_tokens: int
    size_gb: float
    parameters_m: int
    source: str
    catalogue_id: str = ""

    @property
    def multilingual(self) -> bool:
        return self.languages == "multi"


@dataclass(frozen=True)
class LLMModel:
    tag: str
    family: str
    tier: str  # tiny, small, medium, large
    parameters_b: float
    quantization: str
    size_gb: float
    kv_mb_per_1k: float
    languages: tuple[str, ...]  # ("multi",) or ISO 639-1 codes
    notes: str = ""
    latest: bool = False
    overhead_gb: float = 0.0  # runtime.ollama_overhead_gb, filled in by load_catalogue

    def ram_gb(self, context_tokens: int) -> float:
        """Weights + KV cache for `context_tokens` + Ollama's runner."""
        return self.size_gb + self.kv_mb_per_1k * context_tokens / 1024 / 1024 + self.overhead_gb

    def covers(self, languages: set[str]) -> bool:
        """Whether the model supports every language in `languages`."""
        return "multi" in self.languages or languages <= set(self.languages)

    @property
    def names(self) -> set[str]:
        """The names Ollama knows this model by: its tag, and `name`/`name:latest` when the tag is the default."""
        base = self.tag.split(":")[0]
        return {self.tag, base, f"{base}:latest"} if self.latest else {self.tag}


@dataclass(frozen=True)
class RerankerModel:
    id: str
    languages: str  # "en" or "multi"
    ram_mb: int
    min_available_gb: float
    needs_accelerator: bool
    depth: int  # results re-ordered per query
    source: str
    default: bool = False


@dataclass(frozen=True)
class Catalogue:
    embeddings: tuple[EmbeddingModel, ...]
    llms: tuple[LLMModel, ...]
    runtime: Runtime
    rerankers: tuple[RerankerModel, ...] = ()
    ollama_embeddings: tuple[OllamaEmbeddingModel, ...] = ()

    def ollama_embedding(self, name: str) -> OllamaEmbeddingModel | None:
        """An Ollama embedding model by its name ("bge-m3", "bge-m3:latest", "qwen3-embedding:0.6b")."""
        name = name.strip().lower().removeprefix("ollama:")
        name = name if ":" in name else f"{name}:latest"
        return next((model for model in self.ollama_embeddings if model.tag == name), None)

    def llm(self, name: str) -> LLMModel | None:
        """The LLM Ollama would run for `name` ("llama3.1", "llama3.1:latest" or "llama3.1:8b"), if catalogued."""
        name = name.strip().lower().removeprefix("library/")
        return next((model for model in self.llms if name in model.names), None)

    def embedding(self, name: str) -> EmbeddingModel | None:
        """An embedding model by `embedding.model` value, short name or Ollama name."""
        name = name.strip().rstrip("/")
        return next((model for model in self.embeddings
                     if name in (model.id, model.name) or (model.ollama and name.split(":")[0] == model.ollama)), None)

    @property
    def default_embedding(self) -> EmbeddingModel:
        return next(model for model in self.embeddings if model.default)

    def reranker(self, name: str) -> RerankerModel | None:
        if name == "auto":
            return next((model for model in self.rerankers if model.default), None)
        return next((model for model in self.rerankers if model.id == name.strip().rstrip("/")), None)


@lru_cache(maxsize=4)
def load_catalogue(path: Path = MODELS_TOML) -> Catalogue:
    """Read and check models.toml; a missing field, an unknown one or a bad value is a ConfigError naming it."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"model catalogue {path} cannot be read: {exc}") from None
    runtime = _build(Runtime, data.get("runtime", {}), f"{path} [runtime]")
    embeddings = tuple(_build(EmbeddingModel, entry, f"{path} [[embedding]] {entry.get('id', '?')}")
                       for entry in data.get("embedding", []))
    llms = tuple(_build(LLMModel, {**entry, "languages": tuple(entry.get("languages", ())),
                                   "overhead_gb": runtime.ollama_overhead_gb},
                        f"{path} [[llm]] {entry.get('tag', '?')}")
                 for entry in data.get("llm", []))
    rerankers = tuple(_build(RerankerModel, entry, f"{path} [[reranker]] {entry.get('id', '?')}")
                      for entry in data.get("reranker", []))
    ollama_embeddings = tuple(_build(OllamaEmbeddingModel, entry, f"{path} [[ollama_embedding]] {entry.get('tag', '?')}")
                              for entry in data.get("ollama_embedding", []))
    if sum(model.default for model in embeddings) != 1:
        raise ConfigError(f"model catalogue {path}: exactly one [[embedding]] needs default = true")
    return Catalogue(embeddings, llms, runtime, rerankers, ollama_embeddings)


def _build(cls, entry: dict, where: str):
    """`cls(**entry)`, with a message naming the entry when keys are missing or unknown or a number is not one."""
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(entry) - known)
    missing = sorted(f.name for f in fields(cls)
                     if f.name not in entry and f.default is MISSING and f.default_factory is MISSING)
    if unknown or missing:
        raise ConfigError(f"model catalogue {where}: " + "; ".join(
            part for part in (f"unknown keys {unknown}" if unknown else "",
                              f"missing keys {missing}" if missing else "") if part))
    for f in fields(cls):
        if f.type in ("float", "int") and not isinstance(entry.get(f.name, 0), (int, float)):
            raise ConfigError(f"model catalogue {where}: {f.name} = {entry[f.name]!r} is not a number")
    return cls(**entry)
