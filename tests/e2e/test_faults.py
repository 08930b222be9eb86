"""Faults a daemon meets in the field: SIGKILL mid-index, a full or read-only data dir, a Chroma server that
restarts. Each test ends by comparing the index with a clean build of the same vault: the manifest's rows, the
chunks and vectors in Chroma, the BM25 rows and the note names."""

from __future__ import annotations

import random
import signal
import sqlite3
import time
from pathlib import Path

import chromadb
import pytest
from chromadb.config import Settings as ChromaSettings

from vaultrag.ingest.index import DataDir
from vaultrag.ingest.manifest import Manifest
from vaultrag.ingest.pipeline import sync_vault
from tests.e2e.conftest import free_port, run_cli, wait_for

pytestmark = pytest.mark.slow

WORDS = ("garden tomato river bicycle kettle piano winter ledger cactus orbit lantern marble quartz violin harbour "
         "meadow copper falcon glacier pepper").split()


def short_notes(start: int, stop: int) -> dict[str, str]:
    """Notes number `start` to `stop`, one short chunk each, in folders of 100, with text no other note has."""
    return {f"Folder {i // 100}/Note {i}.md": f"# Note {i}\n\nNote {i} is about "
            f"{' '.join(random.Random(i).sample(WORDS, 8))}.\n" for i in range(start, stop)}


def read_index(data_dir: Path, store_url: str = "") -> dict:
    """The active index as a clean build would have it, read with Chroma's own client after the writer stopped;
    fails on duplicate chunk ids, on chunks that no manifest row owns, and on vectors the nearest-neighbour index
    does not find."""
    name = DataDir(data_dir).active_name()
    manifest = Manifest(data_dir / "manifests" / f"{name}.sqlite")
    try:
        files = {path: (rec.content_hash, rec.chunk_ids, rec.state) for path, rec in manifest.files().items()}
        problems, dirty = manifest.problems(), manifest.get_meta("dirty")
    finally:
        manifest.close()
    bm25, note_names = read_lexical(data_dir / "manifests" / f"{name}.sqlite")
    settings = ChromaSettings(anonymized_telemetry=False)
    if store_url:
        host, port = store_url.removeprefix("http://").split(":")
        client = chromadb.HttpClient(host=host, port=int(port), settings=settings)
    else:
        client = chromadb.PersistentClient(path=str(data_dir / "chroma"), settings=settings)
    with client:
        collection = client.get_collection(name)
        got = collection.get(include=["metadatas", "embeddings"])
        count = collection.count()
        nearest = collection.query(query_embeddings=got["embeddings"], n_results=1, include=[])["ids"] if count else []
    ids = got["ids"]
    assert len(ids) == len(set(ids)) == count, "duplicate chunk ids in the store"
    chunks = {i: (meta["path"], meta["content_hash"]) for i, meta in zip(ids, got["metadatas"])}
    owned = {i for _, chunk_ids, _ in files.values() for i in chunk_ids}
    assert set(chunks) == owned, f"{len(set(chunks) - owned)} orphan chunks, {len(owned - set(chunks))} missing"
    lost = [i for i, (hit,) in zip(ids, nearest) if chunks[hit][1] != chunks[i][1]]
    assert not lost, f"{len(lost)} vectors the nearest-neighbour index does not find"
    bm25_ids = [chunk_id for chunk_id, *_ in bm25]
    assert len(bm25_ids) == len(set(bm25_ids)), "duplicate BM25 rows"
    assert set(bm25_ids) == owned, \
        f"{len(set(bm25_ids) - owned)} BM25 rows of no chunk, {len(owned - set(bm25_ids))} missing"
    assert {path for path, *_ in note_names} == set(files), "note names of notes that are gone, or missing"
    return {"files": files, "chunks": chunks, "problems": problems, "dirty": dirty, "bm25": bm25,
            "note_names": note_names}


def read_lexical(manifest_path: Path) -> tuple[list[tuple], list[tuple]]:
    """The BM25 rows (chunk id, path, the names and body terms FTS5 holds) and the note-name rows (path, name,
    key), sorted; read with SQLite itself, so rows the FTS5 table holds without a chunk row fail here too."""
    db = sqlite3.connect(manifest_path)
    try:
        unowned = db.execute("SELECT count(*) FROM lexical WHERE rowid NOT IN (SELECT rowid FROM lexical_chunks)")
        assert unowned.fetchone()[0] == 0, "FTS5 rows without a chunk row"
        bm25 = sorted(db.execute("SELECT chunk_id, path, names, body FROM lexical_chunks "
                                 "JOIN lexical ON lexical.rowid = lexical_chunks.rowid"))
        note_names = sorted(db.execute("SELECT path, name, key FROM note_names"))
    finally:
        db.close()
    return bm25, note_names


def clean_build(vault: Path, settings_for, embedder, data_dir: Path) -> dict:
    sync_vault(settings_for(vault, **{"data.dir": str(data_dir)}), embedder=embedder)
    return read_index(data_dir)


def found(daemon, query: str, path: str, k: int = 5) -> bool:
    return any(r["path"] == path for r in daemon.search(query, k))


def test_sigkill_at_random_moments_during_a_2000_note_index_then_restart_equals_a_clean_build(
        write_vault, start_daemon, settings_for, embedder, tmp_path):
    vault = write_vault(short_notes(0, 2000))
    rng = random.Random(2000)
    # one kill while starting up, then three once the store holds a random number of chunks (below the last batch of
    # 512), each a random moment later: they land while embedding, while writing, and between a batch's store writes
    # and its manifest rows
    moments = [("seconds", rng.uniform(0.0, 3.0))] + [("chunks", n) for n in sorted(rng.sample(range(1, 1500), 3))]
    states, daemons = [], []
    for kind, at in moments:
        daemon = start_daemon(vault)
        daemons.append(daemon)
        if kind == "chunks":
            wait_for(lambda: daemon.status()["chunks"] >= at, 300, what=f"{at} chunks in the store")
            at = rng.uniform(0.0, 2.0)
        time.sleep(at)
        states.append(daemon.status())
        daemon.stop(signal.SIGKILL)  # no chance to clean up: the next start must repair
    mid_index = [s for s in states if s["state"] in ("starting", "indexing") and s["chunks"] < 2000]
    assert len(mid_index) >= 3, f"the index finished too early for the kills: {states}"

    daemon = start_daemon(vault)
    status = daemon.wait_ready(300)
    assert (status["files_indexed"], status["files_failed"], status["chunks"]) == (2000, 0, 2000)
    assert found(daemon, short_notes(1234, 1235)["Folder 12/Note 1234.md"], "Folder 12/Note 1234.md")
    assert daemon.stop() == 0
    assert any("recovered from an unfinished run" in d.log() for d in daemons[1:] + [daemon])
    assert read_index(tmp_path / "data") == clean_build(vault, settings_for, embedder, tmp_path / "clean")


def test_full_data_dir_daemon_says_so_keeps_searching_and_catches_up(write_vault, start_daemon, small_disk,
                                                                     settings_for, embedder, tmp_path):
    vault = write_vault({**short_notes(0, 30), "Garden/Tomatoes.md": "Water the tomatoes deeply twice a week."})
    disk = small_disk(tmp_path / "data")
    daemon = start_daemon(vault, data_dir=disk.path)
    daemon.wait_ready()
    filler = disk.fill(leave=250_000)  # room for the manifest's writes, not for Chroma's: its failure is the harder one
    write_vault({**short_notes(30, 330), "Car.md": "The car needs new winter tyres in November."})

    status = wait_for(lambda: (s := daemon.status())["state"] == "error" and s, 60, what="the error in /api/status")
    assert "no space left" in status["error"] and str(disk.path) in status["error"]
    assert daemon.get("/health").json() == {"status": "ok"}
    assert found(daemon, "how often to water tomatoes", "Garden/Tomatoes.md")  # what is indexed stays searchable
    time.sleep(6)  # the retries keep failing, quietly: no crash, no restart, no traceback in the log
    assert daemon.proc.poll() is None and daemon.status()["error"] and "Traceback" not in daemon.log()

    filler.unlink()  # space is back: the next retry catches up by itself, with no change to the vault
    wait_for(lambda: (s := daemon.status())["state"] == "ready" and s["files_indexed"] == 332 and not s["error"], 90,
             what="the daemon to catch up")
    assert found(daemon, "when are winter tyres needed", "Car.md")
    assert daemon.stop() == 0
    assert read_index(disk.path) == clean_build(vault, settings_for, embedder, tmp_path / "clean")


def test_full_or_read_only_data_dir_is_one_line_from_the_cli_and_the_next_run_recovers(
        write_vault, small_disk, settings_for, embedder, tmp_path):
    vault = write_vault(short_notes(0, 20))
    disk = small_disk(tmp_path / "data")
    index = ("index", "--vault", str(vault), "--data-dir", str(disk.path))
    assert run_cli(*index).returncode == 0

    write_vault(short_notes(20, 60))
    for leave in (0, 60_000, 90_000):  # full at different points: opening the manifest, its writes, Chroma's writes
        filler = disk.fill(leave)
        full = run_cli(*index)
        assert full.returncode == 1 and "Traceback" not in full.stderr, full.stderr
        assert full.stderr.strip().splitlines()[-1].startswith(
            f"vaultrag: no space left on the disk of the data dir {disk.path}")
        filler.unlink()

    disk.remount("ro")
    for command in (index, ("serve", "--vault", str(vault), "--data-dir", str(disk.path), "--port", str(free_port()))):
        done = run_cli(*command)
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        assert done.stderr.strip().splitlines()[-1].startswith(f"vaultrag: the data dir {disk.path} is on a read-only")
    disk.remount("rw")

    assert run_cli(*index).returncode == 0
    assert read_index(disk.path) == clean_build(vault, settings_for, embedder, tmp_path / "clean")


def test_chroma_server_restart_daemon_reconnects_and_catches_up(write_vault, start_daemon, chroma_run, settings_for,
                                                                embedder, tmp_path):
    vault = write_vault({**short_notes(0, 20), "Car.md": "The car needs new winter tyres in November."})
    daemon = start_daemon(vault, env={"VAULTRAG_STORE__URL": chroma_run.url})
    daemon.wait_ready()

    chroma_run.kill()
    write_vault({**short_notes(20, 40), "Garden/Tomatoes.md": "Water the tomatoes deeply twice a week.",
                 "Car.md": "The car is booked for an oil change on 3 March."})
    status = wait_for(lambda: (s := daemon.status())["state"] == "error" and s, 60, what="the error in /api/status")
    assert f"Chroma server at {chroma_run.url}" in status["error"]
    assert daemon.get("/health").json() == {"status": "ok"}
    down = daemon.post("/api/search", json={"query": "tomatoes", "k": 1})
    assert down.status_code == 503 and f"Chroma server at {chroma_run.url}" in down.json()["error"]["message"]

    chroma_run.start()  # same path and port: the daemon reconnects by itself and applies what changed meanwhile
    wait_for(lambda: found(daemon, "how often to water tomatoes", "Garden/Tomatoes.md"), 90, what="the catch-up")
    status = daemon.wait_ready()
    assert status["files_indexed"] == 42 and status["error"] is None
    assert "3 March" in daemon.search("when is the car oil change", 1)[0]["text"]
    assert daemon.stop() == 0
    assert read_index(tmp_path / "data", chroma_run.url) == clean_build(vault, settings_for, embedder,
                                                                        tmp_path / "clean")
