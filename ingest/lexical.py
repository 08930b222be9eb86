"""The lexical index: BM25 over the same chunks as the vector store, in SQLite FTS5 inside the manifest's database.

Living in the manifest's database makes it exact by construction: a note's rows change in the same transaction
that marks the note `clean`, so a crash can never leave the lexical index and the manifest disagreeing. Updates are
per note (delete its rows, insert the new ones); nothing is rebuilt, at start or per query.

FTS5 ranks with its built-in `bm25()` (k1 = 1.2, b = 0.75). The text it stores is already reduced to terms by
`ingest.search_terms` (stemmed words, character pairs for Chinese, Japanese, Korean, Thai...), so one tokenizer
serves every script. A chunk has two columns: `names` (its note's title and aliases) and `body` (the chunk text).

Words are stemmed in their own language: each chunk's is told by `ingest.language_id` (the note's when the chunk
alone is too short to tell) and kept with it, with a count per language. A query's language is told among the
languages the index holds, so a short question is not taken for a language no note is written in; its terms are
those of every language it is likely enough to be in (a German question's German stems, and its English ones
when it could be English too), OR-ed as all terms are. A German query also searches the index's compounds of its
words and the parts of its own compounds (`ingest.compounds`).

`note_names` maps each title and alias to its note, for "a question that names a note finds it" and for
resolving `[[wikilinks]]`.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from vaultrag.ingest.compounds import Vocabulary
from vaultrag.ingest.inline import strip_md
from vaultrag.ingest.language_id import language_of, rank_among
from vaultrag.ingest.names import name_key, nfc
from vaultrag.ingest.search_terms import DEFAULT_LANGUAGE, terms

LEXICAL_VERSION = 2  # bump when the stored terms change: every note is re-read (vectors are reused, not recomputed)

SCHEMA = """
CREATE VIRTUAL TABLE IF NOT EXISTS lexical USING fts5(names, body, tokenize = 'unicode61 remove_diacritics 0');
CREATE TABLE IF NOT EXISTS lexical_chunks (rowid INTEGER PRIMARY KEY, chunk_id TEXT NOT NULL, path TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS lexical_chunks_path ON lexical_chunks (path);
CREATE TABLE IF NOT EXISTS lexical_languages (language TEXT PRIMARY KEY, chunks INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS note_names (path TEXT NOT NULL, name TEXT NOT NULL, key TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS note_names_path ON note_names (path);
CREATE INDEX IF NOT EXISTS note_names_name ON note_names (name);
CREATE INDEX IF NOT EXISTS note_names_key ON note_names (key);
"""

NAMES_WEIGHT = 2.0  # a query word in a note's title or alias counts this many times one in the body
MAX_NAME_TERMS = 8  # titles longer than this many terms are not looked for verbatim in questions
NOTE_SAMPLE_CHARS = 4000  # of a note's chunks, to tell its language
MIN_LANGUAGE_SHARE = 0.01  # of the chunks: a language with fewer is not one a query is taken to be in
ALSO_LANGUAGE = 0.2  # a query is read in each held language at least this likely, besides the likeliest
MAX_QUERY_LANGUAGES = 3


@dataclass(frozen=True)
class LexicalHit:
    chunk_id: str
    path: str
    score: float  # BM25, higher is better


class LexicalIndex:
    """Reads and writes the lexical tables through the manifest's connection (and so its transactions)."""

    def __init__(self, db: sqlite3.Connection):
        self._db = db
        db.executescript(SCHEMA)
        if "language" not in {row[1] for row in db.execute("PRAGMA table_info(lexical_chunks)")}:  # before version 2
            db.execute("ALTER TABLE lexical_chunks ADD COLUMN language TEXT NOT NULL DEFAULT ''")
        if db.execute("SELECT 1 FROM lexical_config WHERE k = 'rank'").fetchone() is None:
            db.execute(f"INSERT INTO lexical (lexical, rank) VALUES ('rank', 'bm25({NAMES_WEIGHT}, 1.0)')")
        self.vocabulary = Vocabulary(db)

    def put(self, path: str, names: list[str], chunks: list[tuple[str, str]]) -> None:
        """Replace the note's rows: `names` are its title and aliases, `chunks` (chunk id, text) pairs."""
        self.delete(path)
        note_language = language_of("\n".join(text for _, text in chunks)[:NOTE_SAMPLE_CHARS], DEFAULT_LANGUAGE)
        name_terms = [t for name in names for t in terms(name, note_language)]
        names_text, written = " ".join(name_terms), set(name_terms)
        for chunk_id, text in chunks:
            language = language_of(text, note_language)
            body_terms = terms(text, language)
            written.update(body_terms)
            rowid = self._db.execute("INSERT INTO lexical_chunks (chunk_id, path, language) VALUES (?, ?, ?)",
                                     (chunk_id, path, language)).lastrowid
            self._db.execute("INSERT INTO lexical (rowid, names, body) VALUES (?, ?, ?)",
                             (rowid, names_text, " ".join(body_terms)))
            self._db.execute("INSERT INTO lexical_languages VALUES (?, 1) "
                             "ON CONFLICT (language) DO UPDATE SET chunks = chunks + 1", (language,))
        self._db.executemany("INSERT INTO note_names (path, name, key) VALUES (?, ?, ?)",
                             [(path, name_key(name), " ".join(terms(nfc(name), note_language)))
                              for name in dict.fromkeys(names) if name])
        self._db.execute("INSERT INTO note_names (path, name, key) VALUES (?, ?, '')", (path, name_key(path),))
        self.vocabulary.add(written)

    def delete(self, path: str) -> None:
        self._db.execute("UPDATE lexical_languages SET chunks = chunks - (SELECT count(*) FROM lexical_chunks c "
                         "WHERE c.path = ? AND c.language = lexical_languages.language)", (path,))
        self._db.execute("DELETE FROM lexical_languages WHERE chunks <= 0")
        self._db.execute("DELETE FROM lexical WHERE rowid IN (SELECT rowid FROM lexical_chunks WHERE path = ?)", (path,))
        self._db.execute("DELETE FROM lexical_chunks WHERE path = ?", (path,))
        self._db.execute("DELETE FROM note_names WHERE path = ?", (path,))

    def search(self, query: str, k: int, paths: set[str] | None = None) -> list[LexicalHit]:
        """The `k` chunks that best match any term of `query`, best first; only in `paths` when given."""
        by_language = {language: terms(query, language) for language in self.query_languages(query)}
        words = sorted({word for language, found in by_language.items()
                        for word in [*found, *self.vocabulary.extra_terms(found, language)]})
        if not words or paths is not None and not paths:
            return []
        expression = " OR ".join('"' + w.replace('"', '""') + '"' for w in words)
        sql = ("SELECT c.chunk_id, c.path, -rank FROM lexical "
               "JOIN lexical_chunks c ON c.rowid = lexical.rowid WHERE lexical MATCH ?")
        args: list = [expression]
        if paths is not None:
            sql += " AND c.path IN (SELECT value FROM json_each(?))"
            args.append(_json_list(paths))
        sql += " ORDER BY rank LIMIT ?"
        args.append(k)
        return [LexicalHit(*row) for row in self._db.execute(sql, args)]

    def notes_named_in(self, query: str) -> list[str]:
        """Notes whose title or an alias appears word for word in `query`, longest name first."""
        spans = {" ".join(words[i:j]) for language in self.query_languages(query)
                 for words in [terms(nfc(query), language)] for i in range(len(words))
                 for j in range(i + 1, min(i + MAX_NAME_TERMS, len(words)) + 1)}
        if not spans:
            return []
        rows = self._db.execute("SELECT path, key FROM note_names WHERE key IN (SELECT value FROM json_each(?))",
                                (_json_list(spans),)).fetchall()
        return list(dict.fromkeys(path for path, key in sorted(rows, key=lambda r: -len(r[1].split()))))

    def languages(self) -> dict[str, int]:
        """The languages of the indexed chunks, with how many chunks each, most first."""
        return dict(self._db.execute("SELECT language, chunks FROM lexical_languages ORDER BY chunks DESC, language"))

    def query_languages(self, query: str) -> list[str]:
        """The languages `query` is read in: the likeliest of those the index holds, and any others likely enough."""
        held = self.languages()
        total = sum(held.values())
        candidates = frozenset(language for language, chunks in held.items() if chunks >= MIN_LANGUAGE_SHARE * total)
        ranked = rank_among(query, candidates)
        if not ranked:
            return [DEFAULT_LANGUAGE]
        return [language for n, (language, probability) in enumerate(ranked)
                if n == 0 or probability >= ALSO_LANGUAGE][:MAX_QUERY_LANGUAGES]

    def resolve(self, names: list[str]) -> dict[str, str]:
        """Wikilink targets -> note paths: by path ("Folder/Note"), file name, or title/alias (case-insensitive)."""
        found: dict[str, str] = {}
        for name in names:
            target = name_key(name.strip())
            target = target[:-3] if target.endswith(".md") else target
            row = self._db.execute("SELECT path FROM note_names WHERE name IN (?, ?) ORDER BY length(path) LIMIT 1",
                                   (target, target + ".md")).fetchone()
            if row:
                found[name] = row[0]
        return found


    def names_of(self, path: str) -> set[str]:
        """What a wikilink to this note can say (title, aliases, path; lower case, without `.md`)."""
        return {strip_md(name) for (name,) in self._db.execute("SELECT name FROM note_names WHERE path = ?", (path,))}


def _json_list(values) -> str:
    return json.dumps(sorted(values), ensure_ascii=False)
