"""Tests for ingest/vault.py: which files a scan finds, which it reports, and how notes are read."""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path

import pytest

from vaultrag.ingest import vault
from vaultrag.ingest.vault import FileStat, NoteUnreadable, Problem, read_note, scan_vault

as_root = hasattr(os, "geteuid") and os.geteuid() == 0


def make(root: Path, *paths: str, content: bytes = b"# note\n") -> None:
    for p in paths:
        f = root / p
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(content)


def found(root: Path, **kwargs) -> list[str]:
    return [f.path for f in scan_vault(root, **kwargs).files]


def problems(root: Path, **kwargs) -> dict[str, str]:
    return {p.path: p.reason for p in scan_vault(root, **kwargs).problems}


# --- scan: what counts as a note ---------------------------------------------------------------------------------


def test_finds_markdown_in_all_folders_sorted_with_size_and_mtime(tmp_path):
    make(tmp_path, "b.md", "Work/Plan.md", "Work/Deep/er/x.md", "a.MD", "image.png", "notes.txt", "md")
    result = scan_vault(tmp_path)
    assert [f.path for f in result.files] == ["Work/Deep/er/x.md", "Work/Plan.md", "a.MD", "b.md"]
    st = (tmp_path / "Work/Plan.md").stat()
    assert result.files[1] == FileStat("Work/Plan.md", st.st_size, st.st_mtime_ns)
    assert result.problems == []


def test_include_globs(tmp_path):
    make(tmp_path, "top.md", "Work/a.md", "Work/sub/b.md", "Other/c.md", "Other/d.txt")
    assert found(tmp_path, include=["Work/*.md"]) == ["Work/a.md"]
    assert found(tmp_path, include=["Work/**/*.md"]) == ["Work/a.md", "Work/sub/b.md"]
    assert found(tmp_path, include=["*.md"]) == ["Other/c.md", "Work/a.md", "Work/sub/b.md", "top.md"]
    assert found(tmp_path, include=["**/*.md", "**/*.txt"])[:2] == ["Other/c.md", "Other/d.txt"]
    assert found(tmp_path, include=["?ork/[ab].md"]) == ["Work/a.md"]


def test_exclude_globs_remove_files_and_folders(tmp_path):
    make(tmp_path, "keep.md", "Archive/old.md", "Work/Archive/older.md", "Work/draft.md", "Work/plan.md")
    assert found(tmp_path, exclude=["Archive"]) == ["Work/draft.md", "Work/plan.md", "keep.md"]
    everything_but_top_archive = ["Work/Archive/older.md", "Work/draft.md", "Work/plan.md", "keep.md"]
    assert found(tmp_path, exclude=["/Archive/**"]) == everything_but_top_archive
    assert found(tmp_path, exclude=["**/draft.md", "Work/Archive/"]) == ["Archive/old.md", "Work/plan.md", "keep.md"]


def test_dot_folders_and_dot_files_are_always_skipped(tmp_path):
    make(tmp_path, ".obsidian/workspace.md", ".trash/deleted.md", ".git/x.md", ".hidden/a.md", "Work/.secret.md")
    make(tmp_path, "ok.md")
    assert found(tmp_path, include=["**/*"]) == ["ok.md"]


def test_folder_named_like_a_note_is_walked_not_read(tmp_path):
    make(tmp_path, "x.md/inside.md")
    assert found(tmp_path) == ["x.md/inside.md"]


def test_zero_byte_note_is_found_and_reads_empty(tmp_path):
    make(tmp_path, "empty.md", content=b"")
    assert scan_vault(tmp_path).files == [FileStat("empty.md", 0, (tmp_path / "empty.md").stat().st_mtime_ns)]
    assert read_note(tmp_path, "empty.md", 100) == ("", [])


def test_notes_over_the_size_limit_are_problems(tmp_path):
    make(tmp_path, "small.md", content=b"x" * 100)
    make(tmp_path, "big.md", content=b"x" * 101)
    result = scan_vault(tmp_path, max_bytes=100)
    assert [f.path for f in result.files] == ["small.md"]
    assert result.problems == [
        Problem("big.md", "larger than the 100 bytes limit (101 bytes); raise vault.max_file_mb to index it")]
    assert vault._size(10_000_000) == "10 MB" and vault._size(20_300_000) == "20.3 MB"


# --- scan: Obsidian's "Excluded files" -----------------------------------------------------------------------------


def write_app_json(root: Path, data: str | bytes) -> None:
    (root / ".obsidian").mkdir(exist_ok=True)
    (root / ".obsidian" / "app.json").write_bytes(data if isinstance(data, bytes) else data.encode())


def test_user_ignore_filters_prefixes_and_regexes(tmp_path):
    make(tmp_path, "Templates/Daily.md", "TemplatesOld/x.md", "Archive/old.md", "Archive/new.md",
         "Daily/2019-05-01.md", "Daily/2020-05-01.md", "Work/Daily/2019.md")
    filters = ["Templates", "Archive/old.md", "/^Daily/.*2019/", "/[unclosed/", 42, ""]
    write_app_json(tmp_path, json.dumps({"userIgnoreFilters": filters}))
    assert found(tmp_path) == ["Archive/new.md", "Daily/2020-05-01.md", "Work/Daily/2019.md"]
    assert len(found(tmp_path, obsidian_ignore=False)) == 7


def test_user_ignore_folder_prefix_with_slash(tmp_path):
    make(tmp_path, "Templates/Daily.md", "Templates.md", "Notes/a.md")
    write_app_json(tmp_path, json.dumps({"userIgnoreFilters": ["Templates/"]}))
    assert found(tmp_path) == ["Notes/a.md", "Templates.md"]


@pytest.mark.parametrize(
    "app_json", ["{not json", "[]", '{"userIgnoreFilters": "Templates/"}', b'{"userIgnoreFilters": ["Templ\xe9"]}']
)
def test_broken_app_json_means_no_filters(tmp_path, app_json):
    make(tmp_path, "Templates/Daily.md")
    write_app_json(tmp_path, app_json)
    assert found(tmp_path) == ["Templates/Daily.md"]


# --- scan: links, permissions and odd names ------------------------------------------------------------------------


def test_symlinked_note_is_included_with_the_targets_stat(tmp_path):
    make(tmp_path, "real.md", content=b"hello world")
    os.symlink(tmp_path / "real.md", tmp_path / "link.md")
    result = scan_vault(tmp_path)
    assert [(f.path, f.size) for f in result.files] == [("link.md", 11), ("real.md", 11)]
    assert read_note(tmp_path, "link.md", 100) == ("hello world", [])


def test_symlinked_folder_to_its_parent_is_reported_not_followed(tmp_path):
    make(tmp_path, "a.md", "sub/b.md")
    os.symlink(tmp_path, tmp_path / "sub" / "up", target_is_directory=True)
    result = scan_vault(tmp_path)
    assert [f.path for f in result.files] == ["a.md", "sub/b.md"]
    assert [p.path for p in result.problems] == ["sub/up"]
    assert "not followed" in result.problems[0].reason


def test_broken_symlink_and_symlink_loop_are_problems(tmp_path):
    make(tmp_path, "ok.md")
    os.symlink(tmp_path / "missing.md", tmp_path / "broken.md")
    os.symlink("loop.md", tmp_path / "loop.md")
    os.symlink("nothing", tmp_path / "broken.png")  # not a note: not reported
    assert found(tmp_path) == ["ok.md"]
    assert problems(tmp_path) == {
        "broken.md": "broken symbolic link (its target does not exist)",
        "loop.md": "symbolic link loop (the link leads back to itself)",
    }


def test_fifo_named_like_a_note_is_a_problem(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    os.mkfifo(tmp_path / "pipe.md")
    assert problems(tmp_path) == {"pipe.md": "not a regular file but a named pipe"}


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero on this platform")
def test_link_to_a_device_is_a_problem_never_read(tmp_path):
    os.symlink("/dev/zero", tmp_path / "zeros.md")
    assert problems(tmp_path) == {"zeros.md": "not a regular file but a device"}


def test_unreadable_folder_is_a_problem_and_the_scan_goes_on(tmp_path, monkeypatch):
    make(tmp_path, "a.md", "Locked/b.md", "Open/c.md")
    real_scandir = os.scandir

    def scandir(path):
        if Path(path) == tmp_path / "Locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(vault.os, "scandir", scandir)
    result = scan_vault(tmp_path)
    assert [f.path for f in result.files] == ["Open/c.md", "a.md"]
    assert result.problems == [Problem("Locked", "folder cannot be read (permission denied)")]


@pytest.mark.skipif(as_root, reason="running as root: chmod 000 does not stop root from reading")
def test_chmod_000_folder_and_file(tmp_path):
    make(tmp_path, "a.md", "Locked/b.md", "secret.md")
    (tmp_path / "Locked").chmod(0)
    (tmp_path / "secret.md").chmod(0)
    try:
        assert problems(tmp_path) == {"Locked": "folder cannot be read (permission denied)"}
        with pytest.raises(NoteUnreadable, match="permission denied"):
            read_note(tmp_path, "secret.md", 100)
    finally:
        (tmp_path / "Locked").chmod(0o755)
        (tmp_path / "secret.md").chmod(0o644)


def test_unicode_names_emoji_rtl_and_200_bytes(tmp_path):
    long_name = "é" * 98 + "x.md"
    assert len(long_name.encode()) == 200
    names = ["🍞 Sourdough.md", "עברית/שלום.md", "العربية.md", "中文笔记.md", long_name]
    for name in names:
        make(tmp_path, name, content=name.encode())
    assert sorted(found(tmp_path)) == sorted(names)
    for name in names:
        assert read_note(tmp_path, name, 1000) == (name, [])


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS file systems refuse names that are not UTF-8")
def test_file_and_folder_names_that_are_not_utf8_are_problems(tmp_path):
    make(tmp_path, "ok.md")
    root = os.fsencode(tmp_path)
    with open(os.path.join(root, b"caf\xe9.md"), "wb"):
        pass
    os.mkdir(os.path.join(root, b"dossier \xe9t\xe9"))
    with open(os.path.join(root, b"ignored \xff.png"), "wb"):
        pass
    result = scan_vault(tmp_path)
    assert found(tmp_path) == ["ok.md"]
    assert result.problems == [
        Problem("caf\ufffd.md", "file name is not valid UTF-8; rename it to index it"),
        Problem("dossier \ufffdt\ufffd", "folder name is not valid UTF-8; rename it to index its notes"),
    ]


def test_scanning_5000_notes_takes_well_under_a_second(tmp_path):
    for d in range(50):
        folder = tmp_path / f"Folder {d}"
        folder.mkdir()
        for n in range(100):
            (folder / f"Note {n}.md").write_bytes(b"x")
    start = time.perf_counter()
    result = scan_vault(tmp_path, exclude=["Archive/**"])
    elapsed = time.perf_counter() - start
    assert len(result.files) == 5000
    assert elapsed < 1.0, f"scan took {elapsed:.2f} s"


# --- read_note -----------------------------------------------------------------------------------------------------


def test_reads_utf8_and_normalises_newlines(tmp_path):
    make(tmp_path, "a.md", content="one\r\ntwo\rthree\nfour ✓".encode())
    assert read_note(tmp_path, "a.md", 100) == ("one\ntwo\nthree\nfour ✓", [])


def test_strips_utf8_bom(tmp_path):
    make(tmp_path, "bom.md", content=b"\xef\xbb\xbf# Title\r\n")
    assert read_note(tmp_path, "bom.md", 100) == ("# Title\n", [])


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_reads_utf16_with_bom(tmp_path, codec):
    bom = b"\xff\xfe" if codec == "utf-16-le" else b"\xfe\xff"
    make(tmp_path, "u16.md", content=bom + "# Notizen\r\nÜber 🍞".encode(codec))
    assert read_note(tmp_path, "u16.md", 1000) == ("# Notizen\nÜber 🍞", [])


@pytest.mark.parametrize("text", ["Café crème brûlée – 5 €.\r\nÇa coûte.", "Notiz: Käse", "Größe: 5 m²", "é"])
def test_cp1252_notes_are_decoded_with_a_warning(tmp_path, text):
    make(tmp_path, "legacy.md", content=text.encode("cp1252"))
    assert read_note(tmp_path, "legacy.md", 1000) == (text.replace("\r\n", "\n"), ["not UTF-8; decoded as cp1252"])


def test_other_legacy_encodings_are_detected(tmp_path):
    text = "Привет, как дела? Это заметка о поездке в Москву."
    make(tmp_path, "ru.md", content=text.encode("cp1251"))
    assert read_note(tmp_path, "ru.md", 1000) == (text, ["not UTF-8; decoded as cp1251"])


def test_binary_content_is_unreadable(tmp_path):
    make(tmp_path, "data.md", content=b"\x00\x01\x02" + bytes(range(256)))
    with pytest.raises(NoteUnreadable) as e:
        read_note(tmp_path, "data.md", 10_000)
    assert (e.value.path, e.value.reason) == ("data.md", "binary content, not a text note")


@pytest.mark.parametrize("start, kind", [(b"\x89PNG\r\n\x1a\n", "a PNG image"),
                                         (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "a PDF document")])
def test_binary_files_renamed_to_md_are_named_by_kind(tmp_path, start, kind):
    make(tmp_path, "renamed.md", content=start + b"\x91\xfe" * 5000)  # no NUL byte, as PDFs often start
    with pytest.raises(NoteUnreadable) as e:
        read_note(tmp_path, "renamed.md", 100_000)
    assert e.value.reason == f"binary content ({kind}), not a text note"


def test_utf8_with_a_corrupted_byte_keeps_its_text_and_says_where(tmp_path):
    text = "Le château ouvre à 9 h, l’été."
    make(tmp_path, "fr.md", content=text.encode().replace("à".encode(), b"\xe0"))
    assert read_note(tmp_path, "fr.md", 1000) == (
        text.replace("à", "\ufffd"), ["not valid UTF-8 in 1 place (first byte 0xe0 at offset 18); shown as \ufffd"])


def test_bytes_that_are_text_in_no_encoding_are_unreadable_saying_where(tmp_path):
    noise = bytes(byte for byte in random.Random(3).randbytes(5000) if byte)  # no NUL byte: not caught as binary
    make(tmp_path, "noise.md", content=b"ok \x9c" + noise)
    with pytest.raises(NoteUnreadable) as e:
        read_note(tmp_path, "noise.md", 10_000)
    assert e.value.reason == "not text in any known encoding (byte 0x9c at offset 3 is not UTF-8)"


def test_note_grown_past_the_limit_is_unreadable(tmp_path):
    make(tmp_path, "big.md", content=b"x" * 2_500_000)
    with pytest.raises(NoteUnreadable, match="larger than the 2 MB limit; raise vault.max_file_mb"):
        read_note(tmp_path, "big.md", 2_000_000)


def test_note_deleted_between_scan_and_read(tmp_path):
    make(tmp_path, "gone.md")
    [note] = scan_vault(tmp_path).files
    (tmp_path / "gone.md").unlink()
    with pytest.raises(NoteUnreadable, match="no longer exists"):
        read_note(tmp_path, note.path, 100)


def test_a_pipe_put_in_a_notes_place_after_the_scan_is_refused_without_blocking(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    os.mkfifo(tmp_path / "pipe.md")
    with pytest.raises(NoteUnreadable, match="not a regular file but a named pipe"):
        read_note(tmp_path, "pipe.md", 100)


def test_reading_a_folder_or_a_path_outside_the_vault(tmp_path):
    make(tmp_path, "x.md/inside.md")
    with pytest.raises(NoteUnreadable, match="is a folder"):
        read_note(tmp_path, "x.md", 100)
    for path in ["../outside.md", "/etc/passwd", ""]:
        with pytest.raises(NoteUnreadable, match="outside the vault"):
            read_note(tmp_path, path, 100)


def test_permission_denied_on_read(tmp_path, monkeypatch):
    make(tmp_path, "secret.md")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(vault, "open", denied, raising=False)
    with pytest.raises(NoteUnreadable) as e:
        read_note(tmp_path, "secret.md", 100)
    assert e.value.reason == "cannot be read (permission denied)"
