"""The shared Chroma client: readers (searches) and the writer use it at once; only the writer may reset it."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from vaultrag.ingest.errors import StoreUnavailable
from vaultrag.ingest.store import StoredChunk, VectorStore, open_client

ROWS = 12_000  # six of the store's batches: the reader's failure lands while the writer is inside the upsert


def chunks(n: int, prefix: str = "c") -> tuple[list[StoredChunk], np.ndarray]:
    rng = np.random.default_rng(1)
    items = [StoredChunk(f"{prefix}{i}", f"text {i}", {"path": f"n{i % 50}.md", "content_hash": f"h{i}",
                                                         "ordinal": i}) for i in range(n)]
    return items, rng.standard_normal((n, 8)).astype(np.float32)


def test_a_reader_error_during_the_writers_upsert_does_not_break_the_writer(tmp_path):
    client = open_client("", tmp_path)
    writer = VectorStore(client, "vaultrag-test", "m")
    reader = VectorStore(client, "vaultrag-test", "m", writer=False)
    generation = client.generation
    items, vectors = chunks(ROWS)
    started, failed = threading.Event(), []

    def write():
        writer.add(items[:10], vectors[:10])
        started.set()
        try:
            writer.add(items, vectors)
        except Exception as exc:  # pragma: no cover - the failure this test is about
            failed.append(exc)

    thread = threading.Thread(target=write)
    thread.start()
    started.wait()
    with pytest.raises(RuntimeError):  # a search whose call fails twice (e.g. a bad state of the reader's own)
        reader._call(lambda collection: (_ for _ in ()).throw(RuntimeError("a search failed")))
    thread.join()
    assert not failed
    assert client.generation == generation  # nobody closed the client under the writer
    assert writer.count() == ROWS and reader.count() == ROWS


def test_a_reader_never_recreates_a_collection_the_writer_dropped(tmp_path):
    client = open_client("", tmp_path)
    writer = VectorStore(client, "vaultrag-old", "m")
    items, vectors = chunks(5)
    writer.add(items, vectors)
    reader = VectorStore(client, "vaultrag-old", "m", writer=False)
    writer.drop()  # a model switch removes the old index while a search still holds it
    with pytest.raises(StoreUnavailable, match="no collection"):
        reader.query(vectors[0], 3)
    assert "vaultrag-old" not in [c.name for c in client.get()[0].list_collections()]
    with pytest.raises(StoreUnavailable, match="no collection"):
        VectorStore(client, "vaultrag-never-built", "m", writer=False)


def test_a_chunk_deleted_while_a_search_reads_it_is_left_out_of_the_hits(tmp_path):
    """A rename deletes a note's old chunks while searches run; Chroma can find an id in its vector index whose record
    is already gone, and used to hand back None for its text and metadata (seen as a 500 from /api/search in
    bench/daemon_bench.py on a 5,000-note vault). The hits only ever hold chunks with their text and metadata."""
    client = open_client("", tmp_path)
    writer = VectorStore(client, "vaultrag-test", "m")
    reader = VectorStore(client, "vaultrag-test", "m", writer=False)
    items, vectors = chunks(2_000)  # enough that Chroma searches its HNSW graph, not only its brute-force buffer
    writer.add(items, vectors)
    moving, vector = items[0], vectors[:1]
    stop, bad, searched = threading.Event(), [], [0]

    def search():
        while not stop.is_set():
            for hit in reader.query(vector[0], 10):
                if hit.text is None or hit.metadata is None:
                    bad.append(hit.id)
            searched[0] += 1

    readers = [threading.Thread(target=search) for _ in range(2)]
    for thread in readers:
        thread.start()
    for round_ in range(400):  # the note moves back and forth: old id deleted, new id added, same vector
        old, new = f"m{round_}", f"m{round_ + 1}"
        writer.add([StoredChunk(new, moving.text, moving.metadata)], vector)
        writer.delete([old] if round_ else [moving.id])
    stop.set()
    for thread in readers:
        thread.join()
    assert searched[0] > 100 and not bad
