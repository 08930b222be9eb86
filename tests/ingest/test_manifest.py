"""The manifest's narrowed read: a watcher batch's sync reads the records of the paths it names and what lies below
them, exactly the ones a whole read would give it, and no others. Its count of files by kind, read from an index."""

from __future__ import annotations

import sqlite3

from vaultrag.ingest.manifest import FileRecord, Manifest

PATHS = ["A/x.md", "A/b/y.md", "A.md", "AB/z.md", "A0.md", "A-B/w.md", "Ä/q.md", "B.md"]


def test_records_under_named_paths_are_those_a_whole_read_would_give(tmp_path):
    manifest = Manifest(tmp_path / "m.sqlite")
    with manifest.transaction():
        for path in PATHS:
            manifest.put_file(FileRecord(path, 1, 1, "hash", "clean", 1, title=path))
    try:
        assert sorted(manifest.files(["A"])) == ["A/b/y.md", "A/x.md"]  # not A.md, AB/, A0.md or A-B/
        assert sorted(manifest.files(["A.md", "Ä", "gone.md"])) == ["A.md", "Ä/q.md"]
        assert manifest.files([]) == {} and manifest.files(["A/x.md"])["A/x.md"].title == "A/x.md"
        many = [f"Inbox/n{i}.md" for i in range(2500)] + ["B.md"]  # more than one SQLite expression may hold
        assert list(manifest.files(many)) == ["B.md"]
        assert manifest.files() == manifest.files(PATHS) and manifest.count() == len(PATHS)
    finally:
        manifest.close()


def _kinds_manifest(path):
    manifest = Manifest(path)
    with manifest.transaction():
        for name in ["a.md", "b.md", "Board.canvas", "Paper.PDF", "Sketch.excalidraw.md", "scan.png"]:
            manifest.put_file(FileRecord(name, 1, 1, "hash", "clean", 1))
        manifest.put_file(FileRecord("a.md", 2, 2, "other", "clean", 1))  # replaced, not counted twice
        manifest.delete_file("b.md")
    return manifest


KINDS = {"note": 1, "canvas": 1, "pdf": 1, "excalidraw": 1, "image": 1}


def test_kinds_are_counted_from_an_index_without_reading_rows(tmp_path):
    manifest = _kinds_manifest(tmp_path / "m.sqlite")
    try:
        assert manifest.kind_counts() == KINDS
        plan = " ".join(row[-1] for row in manifest._db.execute(
            "EXPLAIN QUERY PLAN SELECT kind, COUNT(*) FROM files GROUP BY kind"))
        assert "COVERING INDEX files_kind" in plan  # what a save's sync pays: an index scan, no row decoded
        assert manifest.record("a.md").content_hash == "other"  # the kind column stays out of the records
    finally:
        manifest.close()


def test_a_manifest_from_before_kinds_gets_them_on_opening(tmp_path):
    _kinds_manifest(tmp_path / "m.sqlite").close()
    with sqlite3.connect(tmp_path / "m.sqlite") as db:  # as an earlier version wrote it: no kind column
        db.execute("DROP INDEX files_kind")
        db.execute("ALTER TABLE files DROP COLUMN kind")
    db.close()
    manifest = Manifest(tmp_path / "m.sqlite")
    try:
        assert manifest.kind_counts() == KINDS and len(manifest.files()) == 5
    finally:
        manifest.close()
