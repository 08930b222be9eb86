"""The manifest's narrowed read: a watcher batch's sync reads the records of the paths it names and what lies below
them, exactly the ones a whole read would give it, and no others."""

from __future__ import annotations

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
