"""The daemon as users run it: a real `vaultrag serve` subprocess, real files, real signals, HTTP over loopback."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time

import chromadb
import pytest
from chromadb.config import Settings as ChromaSettings

from vaultrag.ingest.index import DataDir
from vaultrag.ingest.pipeline import sync_vault
from tests.e2e.conftest import VAULTRAG, wait_for

pytestmark = pytest.mark.slow


def found(daemon, query: str, path: str, k: int = 3) -> bool:
    return any(r["path"] == path for r in daemon.search(query, k))


def stored_ids(data_dir) -> set[str]:
    """Chunk ids in the daemon's embedded Chroma, read after the daemon has stopped."""
    name = DataDir(data_dir).active_name()
    client = chromadb.PersistentClient(path=str(data_dir / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
    return set(client.get_collection(name).get(include=[])["ids"])


def clean_build_ids(vault, settings_for, embedder, tmp_path) -> set[str]:
    settings = settings_for(vault, **{"data.dir": str(tmp_path / "clean")})
    sync_vault(settings, embedder=embedder)
    return stored_ids(tmp_path / "clean")


def test_every_kind_of_change_reaches_search(write_vault, start_daemon):
    vault = write_vault({"Garden/Tomatoes.md": "# Tomatoes\nWater the tomatoes deeply twice a week.\n",
                         "Car.md": "The car needs new winter tyres in November.\n"})
    daemon = start_daemon(vault)
    status = daemon.wait_ready()
    assert status["files_indexed"] == 2 and status["chunks"] >= 2 and status["progress"] == 1.0

    (vault / "Bikes.md").write_text("The bike chain needs oil every 300 kilometres.\n")
    wait_for(lambda: found(daemon, "how often to oil the bike chain", "Bikes.md"), what="a created note")

    (vault / "Car.md").write_text("The car is booked for an oil change on 3 March.\n")
    wait_for(lambda: "3 March" in daemon.search("when is the car oil change", 1)[0]["text"], what="an edit")

    (vault / "Bikes.md").rename(vault / "Cycling.md")
    wait_for(lambda: found(daemon, "bike chain oil", "Cycling.md") and not found(daemon, "bike chain oil", "Bikes.md", 5),
             what="a rename")

    (vault / "Garden").rename(vault / "Allotment")
    wait_for(lambda: found(daemon, "watering tomatoes", "Allotment/Tomatoes.md"), what="a folder move")

    (vault / "Car.md").unlink()
    wait_for(lambda: not found(daemon, "car oil change", "Car.md", 5), what="a delete")
    assert daemon.wait_ready()["files_indexed"] == 2


def test_burst_of_writes_converges_to_a_clean_build(write_vault, start_daemon, settings_for, embedder, tmp_path):
    vault = write_vault({"seed.md": "A seed note."})
    daemon = start_daemon(vault)
    daemon.wait_ready()
    rng = random.Random(7)
    for n in range(500):
        i = rng.randrange(50)
        (vault / f"Burst/note {i}.md").parent.mkdir(exist_ok=True)
        (vault / f"Burst/note {i}.md").write_text(f"Note {i}, revision {n}: topic {rng.choice(['rain', 'sun', 'snow'])}.")
    wait_for(lambda: daemon.status()["files_indexed"] == 51 and daemon.status()["files_pending"] == 0, 120,
             what="all 51 notes indexed")
    time.sleep(2)  # let the last debounced batch land
    daemon.wait_ready()
    assert daemon.stop() == 0
    assert stored_ids(tmp_path / "data") == clean_build_ids(vault, settings_for, embedder, tmp_path)


def test_restart_without_changes_embeds_nothing(write_vault, start_daemon, tmp_path):
    vault = write_vault({f"n{i}.md": f"Note {i} about things." for i in range(20)})
    daemon = start_daemon(vault, env={"VAULTRAG_LOG__FILE": "true"})
    assert daemon.wait_ready()["embedded_since_start"] > 0
    assert daemon.stop() == 0
    again = start_daemon(vault)
    status = again.wait_ready()
    assert status["embedded_since_start"] == 0 and status["files_indexed"] == 20
    log_file = (tmp_path / "data" / "vaultrag.log").read_text()  # log.file = true keeps a log in the data dir
    assert log_file.count("vaultrag starting") == 1 and "vaultrag stopped" in log_file


def test_second_daemon_is_refused_naming_the_first(write_vault, start_daemon):
    vault = write_vault({"a.md": "alpha"})
    first = start_daemon(vault)
    second = start_daemon(vault, wait=False)
    assert second.proc.wait(30) == 1
    message = second.log()
    assert f"pid {first.proc.pid}" in message and first.url in message
    assert first.get("/health").json() == {"status": "ok"}


def test_sigterm_mid_index_exits_cleanly_and_quickly(write_vault, start_daemon):
    vault = write_vault({f"n{i}.md": f"Note {i}. " + "Some words about many things. " * 40 for i in range(300)})
    daemon = start_daemon(vault)
    wait_for(lambda: daemon.status()["state"] == "indexing", 60, what="indexing to start")
    started = time.monotonic()
    assert daemon.stop(signal.SIGTERM) == 0
    assert time.monotonic() - started < 10
    assert "shutting down" in daemon.log() and "vaultrag stopped" in daemon.log()


def rewrite_unnoticed(path, text: str) -> None:
    """New text of the same size with the old modification time: the watcher and a sync (which compare size and
    mtime) cannot tell, so only a re-index reads it."""
    before = path.stat()
    assert len(text.encode()) == before.st_size
    path.write_text(text)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_status_and_reindex_endpoints(write_vault, start_daemon, tmp_path):
    vault = write_vault({"a.md": "alpha note", "bin.md": b"\x00\x01binary"})
    daemon = start_daemon(vault)
    status = daemon.wait_ready()
    assert set(status) >= {"vault", "state", "files_total", "files_indexed", "files_pending", "files_failed", "chunks",
                           "embedding_model", "last_sync", "failed", "progress"}
    assert status["failed"] == [{"path": "bin.md", "reason": "binary content, not a text note"}]
    assert status["files_total"] == 2 and status["files_failed"] == 1
    assert daemon.post("/api/reindex", json={"path": "../etc/passwd"}).status_code == 400
    for text, body, queued in (("gamma note", {"json": {"path": "a.md"}}, "a.md"), ("delta note", {}, "all")):
        rewrite_unnoticed(vault / "a.md", text)
        assert daemon.post("/api/reindex", **body).json() == {"queued": queued}
        wait_for(lambda: text in daemon.search(text, 1)[0]["text"], what=f"the re-index ({queued}) to read a.md")
    status = daemon.wait_ready()
    assert (status["files_total"], status["files_indexed"], status["files_failed"]) == (2, 1, 1)

    cli = [VAULTRAG, "status", "--json", "--vault", str(vault), "--data-dir", str(tmp_path / "data")]
    live = json.loads(subprocess.run(cli, capture_output=True, text=True, check=True).stdout)
    assert live["state"] == "ready" and live["watch_mode"] in ("native", "polling")  # asked the running daemon
    assert daemon.stop() == 0
    offline = json.loads(subprocess.run(cli, capture_output=True, text=True, check=True).stdout)
    assert offline["state"] == "stopped" and offline["files_indexed"] == 1 and offline["failed"] == status["failed"]
