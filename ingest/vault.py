"""Finding the vault's note files and reading them safely.

`scan_vault` walks the vault once with `os.scandir` (one stat per note) and returns the notes to index plus the
problems a person should hear about: unreadable folders, broken or looping links, oversized notes, pipes and
devices named like notes (never opened: reading them could block or never end), file names that are not UTF-8.
`read_note` turns one note's bytes into text, whatever its encoding, or says why it cannot.

Globs are gitignore-style and case-insensitive: `*` and `?` stay within one folder, `**` spans folders, a pattern
with no slash but a trailing one (`*.md`, `Archive/`) matches at any depth, one with a slash (`Work/*.md`,
`/Archive`) from the vault root. An `exclude` pattern that matches a folder leaves out everything inside it.
Dot-files and dot-folders (`.obsidian/`, `.trash/`, `.git/` ...) are always skipped. Symlinked notes are read
through the link; symlinked folders are never followed (they can loop) and are reported instead.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from vaultrag.ingest.decoding import NoteUnreadable, decode_note
from vaultrag.ingest.kinds import is_attachment
from vaultrag.ingest.scan_scope import ScanScope

_NOT_FILES = ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"),
              (stat.S_ISBLK, "a device"))


@dataclass(frozen=True)
class FileStat:
    path: str  # vault-relative, forward slashes, e.g. "Work/Plan.md"
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Problem:
    path: str  # vault-relative; bytes that are not UTF-8 shown as U+FFFD
    reason: str  # a sentence a person understands


@dataclass
class ScanResult:
    files: list[FileStat] = field(default_factory=list)  # sorted by path
    problems: list[Problem] = field(default_factory=list)  # found but not indexable; sorted by path


def scan_vault(
    root: Path,
    include: Sequence[str] = ("**/*.md",),
    exclude: Sequence[str] = (),
    obsidian_ignore: bool = True,
    max_bytes: int = 10_000_000,
    scope: ScanScope | None = None,
    max_attachment_bytes: int | None = None,
) -> ScanResult:
    """The notes under `root` that `include` matches and nothing excludes (and `scope` covers), and the problems met.
    PDFs and images have their own size limit, `max_attachment_bytes` (vault.max_pdf_mb), when given."""
    root = Path(root)
    includes = [_glob_regex(p) for p in include]
    prefixes, regexes = _obsidian_filters(root) if obsidian_ignore else ([], [])
    skip = _Exclusions([_glob_regex(p) for p in exclude], prefixes, regexes)
    result = ScanResult()
    folders = [""]
    while folders:
        folder = folders.pop()
        try:
            with os.scandir(root / folder) as it:
                entries = list(it)
        except OSError as e:
            result.problems.append(_problem(folder or ".", f"folder cannot be read ({_why(e)})"))
            continue
        for entry in entries:
            rel = f"{folder}/{entry.name}" if folder else entry.name
            is_dir = entry.is_dir(follow_symlinks=False)
            if entry.name.startswith(".") or skip(rel, is_dir) or scope and not (
                    scope.leads_to(rel) if is_dir else scope.covers(rel)):
                continue
            if is_dir and _utf8(rel):
                folders.append(rel)
            elif is_dir:
                result.problems.append(_problem(rel, "folder name is not valid UTF-8; rename it to index its notes"))
            elif entry.is_symlink() and _links_to_folder(entry):
                result.problems.append(_problem(rel, "link to a folder, not followed (linked folders can loop)"))
            elif any(r.fullmatch(rel) for r in includes):
                attachment = max_attachment_bytes is not None and is_attachment(rel)
                found = _stat_note(entry, rel, max_attachment_bytes if attachment else max_bytes,
                                   "vault.max_pdf_mb" if attachment else "vault.max_file_mb")
                (result.files if isinstance(found, FileStat) else result.problems).append(found)
    result.files.sort(key=lambda f: f.path)
    result.problems.sort(key=lambda p: p.path)
    return result


def read_note(root: Path, path: str, max_bytes: int) -> tuple[str, list[str]]:
    """The text of the note at vault-relative `path`, newlines normalised to `\\n`, and any decoding warnings."""
    parts = PurePosixPath(path).parts
    if not parts or parts[0] == "/" or ".." in parts:
        raise NoteUnreadable(path, "path is outside the vault")
    try:
        data = _read_regular_file(Path(root, *parts), path, max_bytes + 1)
    except FileNotFoundError:
        raise NoteUnreadable(path, "file no longer exists (deleted or moved since the scan)") from None
    except IsADirectoryError:
        raise NoteUnreadable(path, "is a folder, not a note") from None
    except OSError as e:
        raise NoteUnreadable(path, f"cannot be read ({_why(e)})") from None
    if len(data) > max_bytes:
        raise NoteUnreadable(path, f"larger than the {_size(max_bytes)} limit; raise vault.max_file_mb to index it")
    text, warnings = decode_note(path, data)
    return text.replace("\r\n", "\n").replace("\r", "\n"), warnings


def _read_regular_file(file: Path, path: str, limit: int) -> bytes:
    """Up to `limit` bytes of `file`. Opened without blocking and checked once open: a named pipe or device put in
    the note's place since the scan is refused, never read (that could wait, or go on, forever)."""
    fd = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(file))
        if kind := _not_a_file(mode):
            raise NoteUnreadable(path, f"not a regular file but {kind}")
        with open(fd, "rb", closefd=False) as f:
            return f.read(limit)
    finally:
        os.close(fd)


def _stat_note(entry: os.DirEntry, rel: str, max_bytes: int, setting: str) -> FileStat | Problem:
    """Stat one file that `include` matched, through its link if it is one: a note, or why it is not one."""
    if not _utf8(rel):
        return _problem(rel, "file name is not valid UTF-8; rename it to index it")
    try:
        st = entry.stat()
    except OSError as e:
        if e.errno == errno.ELOOP:
            return _problem(rel, "symbolic link loop (the link leads back to itself)")
        if e.errno == errno.ENOENT and entry.is_symlink():
            return _problem(rel, "broken symbolic link (its target does not exist)")
        return _problem(rel, f"cannot be read ({_why(e)})")
    if kind := _not_a_file(st.st_mode):
        return _problem(rel, f"not a regular file but {kind}")
    if st.st_size > max_bytes:
        return _problem(rel, f"larger than the {_size(max_bytes)} limit ({_size(st.st_size)}); "
                             f"raise {setting} to index it")
    return FileStat(rel, st.st_size, st.st_mtime_ns)


@dataclass
class _Exclusions:
    """What leaves a path out: `exclude` globs, and Obsidian's userIgnoreFilters (path prefixes and regexes)."""

    globs: list[re.Pattern]
    prefixes: list[str]
    regexes: list[re.Pattern]

    def __call__(self, rel: str, is_dir: bool) -> bool:
        if any(g.fullmatch(rel) for g in self.globs):
            return True
        if is_dir:  # a folder goes only when everything inside it would: a prefix says so, a regex cannot
            return any(f"{rel}/".startswith(p) for p in self.prefixes)
        return any(rel.startswith(p) for p in self.prefixes) or any(r.search(rel) for r in self.regexes)


def _obsidian_filters(root: Path) -> tuple[list[str], list[re.Pattern]]:
    """userIgnoreFilters from .obsidian/app.json: "/regex/" entries and path prefixes. Anything broken is ignored."""
    try:
        filters = json.loads((root / ".obsidian" / "app.json").read_text(encoding="utf-8")).get("userIgnoreFilters")
    except (OSError, ValueError, AttributeError):
        return [], []
    prefixes, regexes = [], []
    for f in filters if isinstance(filters, list) else []:
        if not isinstance(f, str) or not f:
            continue
        if len(f) > 1 and f.startswith("/") and f.endswith("/"):
            try:
                regexes.append(re.compile(f[1:-1]))
            except re.error:
                pass
        else:
            prefixes.append(f)
    return prefixes, regexes


def _glob_regex(pattern: str) -> re.Pattern:
    """A gitignore-style glob as a regex over vault-relative paths (see the module docstring)."""
    pattern = pattern.strip()
    anchored = "/" in pattern.rstrip("/")
    pattern = pattern.strip("/")
    if not anchored:
        pattern = "**/" + pattern
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        else:
            c = pattern[i]
            end = pattern.find("]", i + 2) if c == "[" else -1
            if end > 0:  # a character class, [!...] negated
                body = pattern[i + 1 : end]
                negated = body.startswith("!")
                out.append("[" + "^" * negated + re.escape(body[negated:]).replace("\\-", "-") + "]")
                i = end + 1
                continue
            out.append({"*": "[^/]*", "?": "[^/]"}.get(c) or re.escape(c))
            i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def _not_a_file(mode: int) -> str | None:
    """What a file mode says the path is when it is not a regular file ("a named pipe"), else None."""
    if stat.S_ISREG(mode):
        return None
    return next((name for is_kind, name in _NOT_FILES if is_kind(mode)), "something else")


def _links_to_folder(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:  # a link loop: reported by _stat_note when its name matches `include`
        return False


def _utf8(rel: str) -> bool:
    """False for names with bytes that are not UTF-8 (os.scandir hands them over as lone surrogates)."""
    try:
        rel.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _problem(rel: str, reason: str) -> Problem:
    """A Problem whose path is printable: bytes that are not UTF-8 become U+FFFD."""
    return Problem(rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace"), reason)


def _why(e: OSError) -> str:
    return "permission denied" if isinstance(e, PermissionError) else (e.strerror or str(e)).lower()


def _size(n: int) -> str:
    for unit, scale in (("MB", 1_000_000), ("KB", 1_000)):
        if n >= scale:
            return f"{n / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} bytes"
