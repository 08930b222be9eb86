"""Embeddings computed on another server: a second vaultrag daemon's own /v1/embeddings is a real OpenAI-compatible
embeddings server over HTTP; a provider change builds a second index and switches to it once complete."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from tests.llm_servers import EMBED_MODEL
from vaultrag.ingest.embedders import configured_embedder
from vaultrag.ingest.errors import EmbedderUnavailable
from vaultrag.ingest.index import DataDir, collection_name
from vaultrag.ingest.openai_embedder import OpenAIEmbedder
from vaultrag.ingest.pipeline import sync_vault
from vaultrag.service.search.searcher import Searcher

pytestmark = pytest.mark.slow
TORCH_MINILM = {"VAULTRAG_EMBEDDING__MODEL": "sentence-transformers/all-MiniLM-L6-v2",
                "VAULTRAG_EMBEDDING__PROVIDER": "sentence-transformers"}  # the serving daemon's model, in torch

NOTES = {"Garden/Tomatoes.md": "# Tomatoes\n\nTomatoes want full sun and deep watering twice a week.",
         "Kitchen/Bread.md": "# Bread\n\nKnead the dough for ten minutes, then let it rise overnight.",
         "Travel/Lisbon.md": "# Lisbon\n\nTram 28 climbs through Alfama; go early before the crowds."}


def _folder(root, files: dict[str, str]):
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def _openai(settings_for, vault, url):
    return settings_for(vault, **{"embedding.provider": "openai", "embedding.base_url": url + "/v1",
                                  "embedding.model": "sentence-transformers/all-MiniLM-L6-v2"})


def test_a_vault_indexed_through_another_daemons_embeddings_endpoint(start_daemon, write_vault, settings_for,
                                                                     tmp_path, embedder):
    server = start_daemon(write_vault({"Other.md": "the serving daemon's own vault"}), data_dir=tmp_path / "server",
                          env=TORCH_MINILM)
    vault = _folder(tmp_path / "mine", NOTES)
    settings = _openai(settings_for, vault, server.url)
    summary = sync_vault(settings)
    assert summary.complete and summary.indexed == 3 and not summary.failed
    remote = configured_embedder(settings)
    assert remote.model_id == "openai:sentence-transformers/all-MiniLM-L6-v2"
    same = remote.embed(["Tram 28 climbs through Alfama"])[0] @ embedder.embed(["Tram 28 climbs through Alfama"])[0]
    assert same > 0.999  # the server ran the same model
    searcher = Searcher(settings)
    try:
        assert searcher.search("which tram goes up the old quarter", 1, mode="dense")[0].path == "Travel/Lisbon.md"
    finally:
        searcher.close()


def test_a_server_that_is_down_is_retried_then_reported(write_vault, settings_for, monkeypatch, caplog):
    from tests.e2e.conftest import free_port

    monkeypatch.setattr(OpenAIEmbedder, "backoff_s", 0.01)  # the same retries, without the waits
    settings = _openai(settings_for, write_vault({"a.md": "text"}), f"http://127.0.0.1:{free_port()}")
    with caplog.at_level(logging.WARNING), pytest.raises(EmbedderUnavailable, match=r"not answering.*5 tries"):
        sync_vault(settings)
    assert caplog.text.count("retrying in") == OpenAIEmbedder.retries == 4


def test_a_provider_change_builds_a_second_index_and_switches_when_complete(ollama_embed_server, start_daemon,
                                                                             write_vault, settings_for, tmp_path):
    vault = write_vault(NOTES)
    first = settings_for(vault, **{"embedding.provider": "ollama", "embedding.model": EMBED_MODEL,
                                   "embedding.base_url": ollama_embed_server.url})
    assert sync_vault(first).complete
    data = DataDir(first.data_dir)
    ollama_index = collection_name(first.vault_path, "ollama:" + EMBED_MODEL)
    assert data.active_name() == ollama_index
    server = start_daemon(_folder(tmp_path / "served", {"Other.md": "other"}), data_dir=tmp_path / "server",
                          env=TORCH_MINILM)
    second = _openai(settings_for, vault, server.url)
    summary = sync_vault(second)
    assert summary.complete and summary.embedded == 3  # every chunk embedded again, by the new provider
    assert data.active_name() == collection_name(second.vault_path, "openai:sentence-transformers/all-MiniLM-L6-v2")
    assert not data.manifest_path(ollama_index).exists()  # the previous provider's index is gone once switched
    assert data.active_model_id() == "openai:sentence-transformers/all-MiniLM-L6-v2"
    vectors = np.stack([v for v in configured_embedder(second).embed(["bread dough"])])
    assert vectors.shape == (1, 384)
