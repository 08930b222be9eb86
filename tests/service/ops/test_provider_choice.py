"""`embedding.provider = "auto"`: ONNX fp32 for the bundled model on a CPU (torch's vectors: a new index and one
torch built alike, no rebuild; int8 lost more retrieval than allowed, so only when set), Ollama only when it already has a suitable model and the machine or vault
calls for it, and an index's own provider kept."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from vaultrag.config.hardware import Gpu, HardwareProfile
from vaultrag.ingest import embedders
from vaultrag.ingest.embedder import BUNDLED_MODEL
from vaultrag.ingest.index import DataDir
from vaultrag.ingest.onnx_embedder import OnnxEmbedder
from vaultrag.ingest.pipeline import sync_vault
from vaultrag.service.ops.model_choice import resolve_models

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "bilingual.toml"
NOTES = tomllib.loads(FIXTURE.read_text(encoding="utf-8"))["note"]
SPANISH = {note["path"]: note["text"] for note in NOTES[:15]}
ENGLISH = {note["path"]: note["text"] for note in NOTES[15:]}
CPU_PC = HardwareProfile(ram_total_gb=16)
GPU_PC = HardwareProfile(ram_total_gb=32, gpus=(Gpu("NVIDIA RTX 4070", "nvidia", 12.0),))


@pytest.fixture(autouse=True)
def empty_hugging_face_cache(monkeypatch):
    monkeypatch.setattr(embedders, "_cached", lambda name: False)


def test_a_new_index_on_a_cpu_gets_onnx_fp32_with_torchs_model_id_and_says_why(write_vault, settings_for):
    resolved, choice = resolve_models(settings_for(write_vault(ENGLISH)), CPU_PC, installed=[])
    assert (resolved.embedding.provider, resolved.embedding.model, resolved.embedding.precision) == \
        ("onnx", BUNDLED_MODEL, "fp32")
    assert "embedding.provider = auto: onnx (fp32), because on a CPU, ONNX Runtime fp32 gives torch's vectors" in \
        choice.embedding_reason
    assert embedders.recorded_id(resolved) == BUNDLED_MODEL  # the same id as torch's: no index is rebuilt for it


def test_an_index_torch_built_is_kept_and_served_by_onnx_fp32(write_vault, settings_for, embedder):
    settings = settings_for(write_vault(ENGLISH))
    sync_vault(settings.model_copy(update={"embedding": settings.embedding.model_copy(
        update={"model": BUNDLED_MODEL})}), embedder=embedder)  # an index from before: torch, the bare id
    resolved, choice = resolve_models(settings, CPU_PC, installed=[])
    assert (resolved.embedding.provider, resolved.embedding.precision) == ("onnx", "fp32")
    assert embedders.recorded_id(resolved) == BUNDLED_MODEL  # the same index: nothing is rebuilt
    assert "no rebuild" in choice.embedding_reason
    assert isinstance(embedders.configured_embedder(resolved), OnnxEmbedder)


def test_an_int8_index_keeps_int8(write_vault, settings_for):
    settings = settings_for(write_vault(ENGLISH), **{"data.dir": str(write_vault({}).parent / "int8-data")})
    int8 = DataDir(settings.data_dir)
    index = int8.open_index("vaultrag-int8", f"onnx-int8:{BUNDLED_MODEL}")  # as an int8 build leaves it
    int8.set_active("vaultrag-int8")
    index.close()
    resolved, choice = resolve_models(settings, CPU_PC, installed=[])
    assert embedders.recorded_id(resolved) == f"onnx-int8:{BUNDLED_MODEL}" and "kept (no rebuild)" in \
        choice.embedding_reason


def test_ollama_is_used_only_when_it_already_has_a_model_and_the_machine_calls_for_it(write_vault, settings_for):
    english = settings_for(write_vault(ENGLISH))
    on_gpu, choice = resolve_models(english, GPU_PC, installed=["nomic-embed-text:latest", "llama3.2:3b"])
    assert (on_gpu.embedding.provider, on_gpu.embedding.model) == ("ollama", "nomic-embed-text:latest")
    assert "Ollama already has nomic-embed-text:latest and this machine has a GPU" in choice.embedding_reason
    on_cpu, _ = resolve_models(english, CPU_PC, installed=["nomic-embed-text:latest"])
    assert on_cpu.embedding.provider == "onnx"  # an English vault on a CPU: the bundled model is served best here
    nothing, _ = resolve_models(english, GPU_PC, installed=["llama3.2:3b"])
    assert nothing.embedding.provider != "ollama"  # auto never pulls a model


def test_a_multilingual_vault_takes_a_multilingual_ollama_model_and_never_an_english_one(write_vault, settings_for):
    mixed = settings_for(write_vault(SPANISH | ENGLISH))
    resolved, choice = resolve_models(mixed, CPU_PC, installed=["nomic-embed-text:latest", "bge-m3:latest"])
    assert (resolved.embedding.provider, resolved.embedding.model) == ("ollama", "bge-m3:latest")
    assert "the vault is multilingual" in choice.embedding_reason
    english_only, _ = resolve_models(mixed, CPU_PC, installed=["nomic-embed-text:latest"])
    assert english_only.embedding.provider != "ollama"


def test_an_index_built_through_ollama_keeps_ollama(write_vault, settings_for, ollama_embed_server):
    from tests.llm_servers import EMBED_MODEL

    settings = settings_for(write_vault(ENGLISH), **{"embedding.base_url": ollama_embed_server.url})
    built = settings.model_copy(update={"embedding": settings.embedding.model_copy(
        update={"provider": "ollama", "model": EMBED_MODEL})})
    assert sync_vault(built).complete
    resolved, choice = resolve_models(settings, CPU_PC, installed=[])
    assert (resolved.embedding.provider, resolved.embedding.model) == ("ollama", EMBED_MODEL)
    assert "kept (no rebuild)" in choice.embedding_reason
