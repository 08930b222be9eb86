"""The Ollama embedding provider against the Ollama stand-in (tests/llm_servers.py) over real loopback HTTP: chunks
sized to the model's context, a missing model, Ollama down before and during a sync.

The stand-in computes its vectors with the real all-MiniLM-L6-v2 (`embed_with`) where a test searches; it refuses
an input longer than its context length, as Ollama 0.13.5+ does."""

from __future__ import annotations

import logging
import socket

import pytest

from tests.llm_servers import EMBED_MODEL
from vaultrag.ingest.embedders import configured_embedder
from vaultrag.ingest.errors import EmbedderUnavailable, ModelUnavailable
from vaultrag.ingest.ollama_embedder import OllamaEmbedder
from vaultrag.ingest.pipeline import VaultIndexer, sync_vault
from vaultrag.service.search.searcher import Searcher

PARAGRAPH = ("Tomatoes want full sun, deep watering twice a week and a stake once they reach knee height. "
             "Pinch out the side shoots so the plant puts its strength into the fruit rather than leaves. ")


def _settings(settings_for, vault, server, model=EMBED_MODEL):
    return settings_for(vault, **{"embedding.provider": "ollama", "embedding.model": model,
                                  "embedding.base_url": server.url, "embedding.keep_alive": "7m"})


def test_chunks_respect_a_small_context_and_search_finds_them(ollama_embed_server, embedder, write_vault,
                                                              settings_for):
    ollama_embed_server.context_length = 48
    ollama_embed_server.embed_with = embedder.embed
    vault = write_vault({"Garden/Tomatoes.md": "# Tomatoes\n\n" + PARAGRAPH * 6,
                         "Kitchen/Bread.md": "# Bread\n\nKnead the dough for ten minutes, then let it rise "
                                             "overnight in a cool kitchen."})
    settings = _settings(settings_for, vault, ollama_embed_server)
    summary = sync_vault(settings)
    assert summary.complete and not summary.failed and summary.indexed == 2
    sent = [size for request in ollama_embed_server.embed_requests for size in request["tokens"]]
    assert sent and max(sent) <= 48  # every input fits the context, so Ollama never refuses one
    assert summary.chunks_total > 4  # the long note was cut into many chunks to fit
    assert {r["options"]["num_ctx"] for r in ollama_embed_server.embed_requests} == {48}
    assert {r["keep_alive"] for r in ollama_embed_server.embed_requests} == {"7m"}
    searcher = Searcher(settings)
    try:
        found = searcher.search("how long should bread dough rise", 1, mode="dense")
    finally:
        searcher.close()
    assert found[0].path == "Kitchen/Bread.md"


def test_a_text_ollama_finds_too_long_is_embedded_by_a_prefix(ollama_embed_server, embedder, caplog):
    ollama_embed_server.context_length = 32
    ollama_embed_server.embed_with = embedder.embed
    ollama = OllamaEmbedder(EMBED_MODEL, ollama_embed_server.url)
    with caplog.at_level(logging.WARNING):
        vectors = ollama.embed(["short one", PARAGRAPH * 3])
    assert vectors.shape == (2, 384)
    assert "too long" in caplog.text
    assert max(max(r["tokens"]) for r in ollama_embed_server.embed_requests[-1:]) <= 32  # the last try fitted


def test_a_model_not_pulled_names_the_pull_command(ollama_embed_server, write_vault, settings_for):
    vault = write_vault({"a.md": "some text"})
    with pytest.raises(ModelUnavailable, match=r"`ollama pull nomic-embed-text:latest`"):
        sync_vault(_settings(settings_for, vault, ollama_embed_server, "nomic-embed-text"))


def test_ollama_not_running_says_so(write_vault, settings_for):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    vault = write_vault({"a.md": "some text"})
    settings = settings_for(vault, **{"embedding.provider": "ollama", "embedding.model": EMBED_MODEL,
                                      "embedding.base_url": f"http://127.0.0.1:{port}"})
    with pytest.raises(EmbedderUnavailable, match=rf"Ollama is not reachable at http://127.0.0.1:{port}"):
        sync_vault(settings)


def test_ollama_failing_mid_sync_loses_nothing_and_the_next_sync_completes(ollama_embed_server, write_vault,
                                                                          settings_for):
    notes = {f"Notes/n{i:03}.md": f"Note number {i} about topic {i % 17} and word{i}" for i in range(700)}
    vault = write_vault(notes)
    settings = _settings(settings_for, vault, ollama_embed_server)
    ollama_embed_server.embed_fail_after = 20  # the first batch of 512 chunks takes 16 requests; the second fails
    with VaultIndexer(settings) as indexer:
        with pytest.raises(EmbedderUnavailable, match="failed to embed"):
            indexer.sync()
        written = indexer.index.manifest.paths()
        assert 0 < len(written) < 700  # the batches before the failure are committed, the one in hand is not
        assert indexer.index.store.count() == len(written)
        ollama_embed_server.embed_fail_after = None  # Ollama is back
        summary = indexer.sync()
        assert summary.complete and summary.chunks_total == 700
        assert indexer.index.manifest.paths() == set(notes)
        assert indexer.index.store.count() == 700
        assert summary.embedded == 700 - len(written)  # what was written before is not embedded again


def test_the_configured_provider_records_an_ollama_model_id(ollama_embed_server, write_vault, settings_for):
    settings = _settings(settings_for, write_vault({"a.md": "x"}), ollama_embed_server, "all-minilm:l6-v2")
    assert configured_embedder(settings).model_id == "ollama:all-minilm:l6-v2"
    short = _settings(settings_for, write_vault({"b.md": "x"}), ollama_embed_server, "nomic-embed-text")
    assert configured_embedder(short).model_id == "ollama:nomic-embed-text:latest"


def test_with_ollama_down_hybrid_search_uses_words_and_dense_search_is_a_503(ollama_embed_server, embedder,
                                                                              write_vault, settings_for):
    from fastapi.testclient import TestClient

    from vaultrag.service.http.app import create_app

    ollama_embed_server.embed_with = embedder.embed
    vault = write_vault({"Kitchen/Bread.md": "Knead the sourdough for ten minutes.", "b.md": "Tram 28 in Lisbon."})
    settings = _settings(settings_for, vault, ollama_embed_server)
    with VaultIndexer(settings) as indexer:
        indexer.sync()
        ollama_embed_server.embed_fail_after = 0  # Ollama's runner fails from now on
        client = TestClient(create_app(settings, indexer), base_url="http://127.0.0.1")
        words = client.post("/api/search", json={"query": "sourdough", "k": 3, "mode": "hybrid"})
        assert words.status_code == 200 and words.json()["results"][0]["path"] == "Kitchen/Bread.md"
        dense = client.post("/api/search", json={"query": "sourdough", "k": 3, "mode": "dense"})
        assert dense.status_code == 503
        assert dense.json()["error"]["code"] == "embedder_unavailable" and "Ollama" in dense.json()["error"]["message"]
