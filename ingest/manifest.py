"""The manifest: one SQLite row per indexed file (stat, content hash, chunk ids), plus skipped/failed files and
where renamed notes went.

The same database holds the lexical index (`manifest.lexical`), written in the same transactions.

It is the index's memory between runs. A file is marked `pending` before the store is touched for it and `clean`
after, so a crash at any moment leaves a record of exactly which files to redo.
"""

from __future__ import annotations

import json
from collections.abc import Collection
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from vaultrag.ingest.inline import strip_md
from vaultrag.ingest.kinds import kind_of
from vaultrag.ingest.lexical import LexicalIndex
from vaultrag.ingest.names import name_key

SCOPE_STEP = 200  # paths per query of `files(under=...)`: SQLite limits an expression's depth (1000 by default)
SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('clean', 'pending')),
    parser_version INTEGER NOT NULL,
    chunk_ids TEXT NOT NULL,
    chunk_hashes TEXT NOT NULL,
    title TEXT NOT NULL,
    tags TEXT NOT NULL,
    links TEXT NOT NULL,
    warnings TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT ''  -- ingest.kinds.kind_of(path), kept for counting kinds from an index
);
CREATE TABLE IF NOT EXISTS problems (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('skipped', 'failed')),
    reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS moves (old_path TEXT PRIMARY KEY, new_path TEXT NOT NULL);
"""


@dataclass
class FileRecord:
    path: str
    size: int
    mtime_ns: int
    content_hash: str
    state: str
    parser_version: int
    chunk_ids: list[str] = field(default_factory=list)
    chunk_hashes: list[str] = field(default_factory=list)
    title: str = ""
    tags: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ProblemRecord:
    path: str
    size: int
    mtime_ns: int
    kind: str  # "skipped" (by rule: too large, binary) or "failed" (an error reading or parsing it)
    reason: str


_JSON_COLUMNS = ("chunk_ids", "chunk_hashes", "tags", "links", "warnings")


class Manifest:
    """SQLite-backed records of one index (one collection). Writes are grouped in `transaction()` blocks."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        if not self._has_kinds():
            self._add_kinds()
        self._db.execute("CREATE INDEX IF NOT EXISTS files_kind ON files (kind)")
        self.lexical = LexicalIndex(self._db)

    def _has_kinds(self) -> bool:
        return "kind" in {row[1] for row in self._db.execute("PRAGMA table_info(files)")}

    def _add_kinds(self) -> None:
        """A manifest written before files had a `kind` gets the column, filled in once."""
        with self.transaction():
            if not self._has_kinds():  # another process may have added it meanwhile
                self._db.execute("ALTER TABLE files ADD COLUMN kind TEXT NOT NULL DEFAULT ''")
                self._db.executemany("UPDATE files SET kind = ? WHERE path = ?",
                                     [(kind_of(path), path) for path in self.paths()])

    def close(self) -> None:
        self._db.close()

    def transaction(self, durable: bool = False):
        """`with manifest.transaction():` groups writes so a crash keeps all or none of them.

        In WAL mode with synchronous=NORMAL a power cut may lose the last commits (never reorder them). With
        `durable`, the commit (and every commit before it) is on disk when the block ends: used for what must be
        recorded before the vector store is touched (the dirty flag, files marked pending)."""
        return _Transaction(self._db, durable)

    # files
    def files(self, under: Collection[str] | None = None) -> dict[str, FileRecord]:
        """Every file's record, or only those of the paths `under` names and of what lies below them (a narrowed
        sync reads a few rows, not the whole vault's)."""
        if under is None:
            return self._records("SELECT * FROM files", [])
        found: dict[str, FileRecord] = {}
        wanted = sorted(under)
        for start in range(0, len(wanted), SCOPE_STEP):
            step = wanted[start:start + SCOPE_STEP]  # below "p": from "p/" to before "p0" ("0" follows "/")
            match = " OR ".join(["path = ? OR (path >= ? AND path < ?)"] * len(step))
            values = [v for p in step for v in (p, p + "/", p + "0")]
            found.update(self._records(f"SELECT * FROM files WHERE {match}", values))
        return found

    def _records(self, query: str, values: list[str]) -> dict[str, FileRecord]:
        cursor = self._db.execute(query, values)
        names = [d[0] for d in cursor.description]
        return {row[0]: _record(dict(zip(names, row))) for row in cursor}

    def count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM files").fetchone()[0]

    def kind_counts(self) -> dict[str, int]:
        """Indexed files by kind (ingest.kinds), counted from the `kind` index without reading a row."""
        return dict(self._db.execute("SELECT kind, COUNT(*) FROM files GROUP BY kind"))

    def paths(self) -> set[str]:
        """The indexed paths, without decoding their records."""
        return {row[0] for row in self._db.execute("SELECT path FROM files")}

    def paths_matching(self, tags: tuple[str, ...] = (), path_prefix: str = "",
                       modified_after: float | None = None, kinds: tuple[str, ...] = ()) -> set[str]:
        """Indexed paths with any of `tags` (or a tag nested below one), under `path_prefix`, modified since then,
        of one of `kinds` (ingest.kinds).

        Tags and the prefix compare as `names.name_key` (NFC, casefold: without letter case, as Obsidian's search
        does) and literally: no character of theirs is a wildcard."""
        sql, args = "SELECT path, tags FROM files", []
        if modified_after is not None:  # seconds since the epoch
            sql += " WHERE mtime_ns >= ? * 1e9"
            args.append(modified_after)
        wanted = [name_key(tag) for tag in tags]
        prefix = name_key(path_prefix)
        return {path for path, tags_json in self._db.execute(sql, args)
                if name_key(path).startswith(prefix) and (not kinds or kind_of(path) in kinds)
                and (not wanted or any(_tag_matches(name_key(tag), wanted) for tag in json.loads(tags_json)))}

    def first_chunk(self, path: str) -> str | None:
        row = self._db.execute("SELECT json_extract(chunk_ids, '$[0]') FROM files WHERE path = ?", (path,)).fetchone()
        return row[0] if row else None

    def chunk_ids_of(self, path: str) -> list[str]:
        row = self._db.execute("SELECT chunk_ids FROM files WHERE path = ?", (path,)).fetchone()
        return json.loads(row[0]) if row else []
    def record(self, path: str) -> FileRecord | None:
        """The record of one indexed file, or None."""
        cursor = self._db.execute("SELECT * FROM files WHERE path = ?", (path,))
        row = cursor.fetchone()
        return _record(dict(zip([d[0] for d in cursor.description], row))) if row else None

    def tag_counts(self) -> dict[str, int]:
        """Each tag on the indexed notes (as first spelled; compared without letter case) and its number of notes."""
        counts: dict[str, int] = {}
        spelling: dict[str, str] = {}
        for (tag,) in self._db.execute("SELECT t.value FROM files, json_each(files.tags) t ORDER BY files.path"):
            name = spelling.setdefault(tag.casefold(), tag)
            counts[name] = counts.get(name, 0) + 1
        return counts

    def recent(self, n: int, path_prefix: str = "") -> list[FileRecord]:
        """The `n` most recently modified indexed files (under `path_prefix`, compared without letter case)."""
        cursor = self._db.execute("SELECT * FROM files WHERE lower(substr(path, 1, length(?))) = lower(?) "
                                  "ORDER BY mtime_ns DESC, path LIMIT ?", (path_prefix, path_prefix, n))
        names = [d[0] for d in cursor.description]
        return [_record(dict(zip(names, row))) for row in cursor]

    def linking_to(self, names: set[str]) -> list[str]:
        """Paths of the notes with a link whose target (without letter case or `.md`) is one of `names`."""
        found = []
        for path, links in self._db.execute("SELECT path, links FROM files ORDER BY path"):
            if any(strip_md(target.strip().casefold()) in names for target in json.loads(links)):
                found.append(path)
        return found

    def links_of(self, paths: list[str]) -> dict[str, list[str]]:
        """The wikilink targets (as written) of each of these notes."""
        rows = self._db.execute("SELECT path, links FROM files WHERE path IN (SELECT value FROM json_each(?))",
                                (json.dumps(paths, ensure_ascii=False),))
        return {path: json.loads(links) for path, links in rows}

    def put_file(self, rec: FileRecord) -> None:
        values = {k: (json.dumps(v, ensure_ascii=False) if k in _JSON_COLUMNS else v) for k, v in vars(rec).items()}
        values["kind"] = kind_of(rec.path)
        columns = ", ".join(values)
        self._db.execute(f"INSERT OR REPLACE INTO files ({columns}) VALUES ({', '.join('?' * len(values))})",
                         tuple(values.values()))

    def mark_pending(self, path: str) -> None:
        self._db.execute("UPDATE files SET state = 'pending' WHERE path = ?", (path,))

    def mark_all_pending(self) -> None:
        self._db.execute("UPDATE files SET state = 'pending'")

    def delete_file(self, path: str) -> None:
        self._db.execute("DELETE FROM files WHERE path = ?", (path,))

    # renames: where a note that moved went, so links made before the move still find it
    def moves(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT old_path, new_path FROM moves"))

    def put_move(self, old_path: str, new_path: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO moves VALUES (?, ?)", (old_path, new_path))

    # problems
    def problems(self) -> dict[str, ProblemRecord]:
        return {row[0]: ProblemRecord(*row) for row in self._db.execute(
            "SELECT path, size, mtime_ns, kind, reason FROM problems ORDER BY path")}

    def put_problem(self, problem: ProblemRecord) -> None:
        self._db.execute("INSERT OR REPLACE INTO problems VALUES (?, ?, ?, ?, ?)",
                         (problem.path, problem.size, problem.mtime_ns, problem.kind, problem.reason))

    def delete_problem(self, path: str) -> None:
        self._db.execute("DELETE FROM problems WHERE path = ?", (path,))

    # meta
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))


def _tag_matches(tag: str, wanted: list[str]) -> bool:
    return any(tag == w or tag.startswith(w + "/") for w in wanted)


def _record(row: dict) -> FileRecord:
    del row["kind"]  # the path says it
    for key in _JSON_COLUMNS:
        row[key] = json.loads(row[key])
    return FileRecord(**row)


class _Transaction:
    def __init__(self, db: sqlite3.Connection, durable: bool):
        self._db = db
        self._durable = durable

    def __enter__(self):
        if self._durable:  # synchronous cannot change inside a transaction; FULL fsyncs the WAL at COMMIT
            self._db.execute("PRAGMA synchronous=FULL")
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._relax()
            raise
        return self

    def _relax(self) -> None:
        if self._durable:
            self._db.execute("PRAGMA synchronous=NORMAL")

    def __exit__(self, exc_type, *_):
        try:
            self._db.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self._relax()
        return False
