"""The daemon's index writer thread owns the index: a stop that gives up waiting never closes it under a sync."""

from __future__ import annotations

import threading

from vaultrag.ingest.index import DataDir, collection_name
from vaultrag.ingest.manifest import Manifest
from vaultrag.ingest.pipeline import VaultIndexer
from vaultrag.service.daemon.index_writer import IndexWriter
from vaultrag.service.daemon.status import IndexStatus

NOTES = {f"Notes/n{i}.md": f"# Note {i}\n\nThe number of this note is {i}, written out in words.\n" for i in range(6)}


class GatedEmbedder:
    """The real embedding model, whose first encode waits for the test to open a gate (to hold a sync mid-batch)."""

    def __init__(self, embedder):
        self._embedder = embedder
        self.entered, self.gate = threading.Event(), threading.Event()

    def __getattr__(self, name):
        return getattr(self._embedder, name)

    def embed(self, texts):
        self.entered.set()
        self.gate.wait()
        return self._embedder.embed(texts)


def test_a_stop_that_gives_up_waiting_leaves_the_index_to_the_writer_thread(write_vault, settings_for, embedder):
    settings = settings_for(write_vault(NOTES))
    gated = GatedEmbedder(embedder)
    status = IndexStatus(vault=str(settings.vault_path), embedding_model=embedder.model_id)
    with VaultIndexer(settings, gated) as indexer:
        writer = IndexWriter(indexer, status)
        writer.start()
        thread = writer._thread
        gated.entered.wait()  # the startup sync is inside its first batch
        writer.stop(timeout=0)  # as a daemon whose stop gave up: the batch in hand is still being embedded
    gated.gate.set()  # the daemon has left the indexer's block; the sync goes on to write its batch
    thread.join()
    assert status.error is None  # the batch was written to an open manifest, not a closed one
    with VaultIndexer(settings, embedder):  # the thread released the writer lock once it had finished
        pass
    manifest = Manifest(DataDir(settings.data_dir).manifest_path(collection_name(settings.vault_path,
                                                                                   embedder.model_id)))
    assert {path: rec.state for path, rec in manifest.files().items()} == {path: "clean" for path in NOTES}
    manifest.close()


def _wait_for(condition, seconds=60.0):
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the index writer did not get there"
        time.sleep(0.05)


def test_ollama_down_pauses_indexing_with_a_clear_status_and_it_resumes(ollama_embed_server, write_vault,
                                                                       settings_for):
    from tests.llm_servers import EMBED_MODEL

    settings = settings_for(write_vault(NOTES), **{"embedding.provider": "ollama", "embedding.model": EMBED_MODEL,
                                                   "embedding.base_url": ollama_embed_server.url})
    ollama_embed_server.embed_fail_after = 0  # Ollama's runner fails every request
    status = IndexStatus(vault=str(settings.vault_path), embedding_model="ollama:" + EMBED_MODEL)
    with VaultIndexer(settings) as indexer:
        writer = IndexWriter(indexer, status)
        writer.start()
        try:
            _wait_for(lambda: status.state == "paused")
            assert "Ollama" in status.error and "resumes by itself" in status.error
            ollama_embed_server.embed_fail_after = None  # Ollama is back: the retry (2 s later) indexes everything
            _wait_for(lambda: status.state == "ready")
            assert status.error is None
            assert indexer.index.manifest.paths() == set(NOTES)
        finally:
            writer.stop()
