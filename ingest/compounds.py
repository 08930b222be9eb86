"""German compounds at query time, with the index's own words as the dictionary (FTS5's `fts5vocab` over `lexical`).

German writes compounds as one word: a note says "Roggensauerteig" where the question says "Sauerteig", and a
question says "Fahrradschlauch" where the note says "Schlauch". For each German query term (a Snowball stem):

- **heads**: index terms that end with it (a modifier of at least MIN_MODIFIER letters before it) are searched too,
  for a term of at least MIN_HEAD letters; at most MAX_HEADS of them, the ones in the most chunks. Frequent
  compounds are the vault's usual words for the thing, and BM25 weighs them lightly; a rare one (a one-off, a typo)
  would weigh most and outrank the notes that use the question's own word.
- **parts**: a term the index holds in fewer chunks than its parts is split into two or three index terms of at
  least MIN_PART letters, a modifier allowed a linking letter (Fugen-s, -es, -n, -en, -e); of the splits, the one
  whose parts' chunk counts have the highest geometric mean (Koehn and Knight, "Empirical Methods for Compound
  Splitting", 2003), and only when that mean is higher than the word's own count.

The dictionary is the table `lexical_terms`: every term of at least MIN_PART letters the index has held, in the order
first written (the writer adds a note's new terms as it puts the note; an index made before it existed fills it once
from FTS5's own vocabulary). Each connection reads the table once into memory and, after the database changed
(SQLite's `data_version` and the connection's own change count), only the rows added since, so a search after a save
costs one indexed read of a few new terms, not the whole vocabulary again. A term whose notes were all deleted stays
in the table but holds no chunk, and is never searched: a query costs set look-ups and one `fts5vocab` query for the
chunk counts of a few terms (LEXICAL_VERSION is unchanged).
"""

from __future__ import annotations

import bisect
import json
import sqlite3
import threading
from math import prod

from vaultrag.ingest.search_terms import stem

COMPOUNDING = frozenset({"de"})  # languages whose query terms are looked for inside compounds
MIN_HEAD = 5
MIN_MODIFIER = 3
MAX_HEADS = 5
MIN_PART = 4
MAX_PARTS = 3
LINKERS = ("es", "en", "s", "n", "e")  # Fugen: Arbeit-s-zimmer, Frau-en-arzt, Sonne-n-schein, Hund-e-hütte
# Verb particles of three letters or more, as Snowball writes them (no umlauts): "mitbringen" and "überwintern" are
# verbs made with a particle, not compounds of "mit" and "bringen"
PARTICLES = frozenset("auf aus bei dar ein ent fort her hin los miss mit nach uber um unter ver vor weg wieder zer "
                      "zuruck zusammen durch".split())


class Vocabulary:
    """The terms of the lexical index, with the number of chunks holding each (FTS5 keeps both)."""

    def __init__(self, db: sqlite3.Connection):
        self._db = db
        self._lock = threading.Lock()
        self._key: tuple[int, int] | None = None
        self._read_up_to = 0  # the last row of lexical_terms in memory
        self._terms: frozenset[str] = frozenset()
        self._reversed: list[str] = []
        db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.lexical_vocab USING fts5vocab(main, lexical, 'row')")
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'lexical_terms'").fetchone() is None:
            self._create_dictionary()

    def _create_dictionary(self) -> None:
        """The table, filled from FTS5's terms: empty for a new index, everything for one made before the table."""
        own = not self._db.in_transaction  # all or nothing, whoever opens the index first
        if own:
            self._db.execute("BEGIN IMMEDIATE")
        self._db.execute("CREATE TABLE IF NOT EXISTS lexical_terms (term TEXT NOT NULL UNIQUE)")
        self.add(term for (term,) in self._db.execute("SELECT term FROM temp.lexical_vocab"))
        if own:
            self._db.execute("COMMIT")

    def add(self, terms) -> None:
        """Record `terms` of a note being written (in the caller's transaction); those already known are skipped."""
        self._db.executemany("INSERT OR IGNORE INTO lexical_terms (term) VALUES (?)",
                             [(t,) for t in set(terms) if _dictionary_word(t)])

    def extra_terms(self, words: list[str], language: str) -> list[str]:
        """Index terms to search besides `words` (stems of a query in `language`): their compounds and parts."""
        if language not in COMPOUNDING or not words:
            return []
        self._refresh()
        heads = [self._ending_with(word) for word in words if len(word) >= MIN_HEAD]
        splits = {word: _splits(word, self._terms) or _lone_head(word, self._terms) for word in words}
        counts = self.chunk_counts({*words, *(t for found in heads for t in found),
                                    *(part for options in splits.values() for parts in options for part in parts)})
        held = lambda term: counts.get(term, 0) > 0  # noqa: E731 (a term whose notes are gone is not)
        extra = [t for found in heads for t in sorted(filter(held, found), key=lambda t: (-counts[t], t))[:MAX_HEADS]]
        for word, options in splits.items():
            best = max(options, key=lambda parts: (_mean(parts, counts), -len(parts)), default=())
            if best and _mean(best, counts) > counts.get(word, 0):
                extra += best
        return [term for term in dict.fromkeys(extra) if term not in words and held(term)]

    def chunk_counts(self, terms: set[str]) -> dict[str, int]:
        """How many chunks hold each of `terms` (those the index holds)."""
        if not terms:
            return {}
        return dict(self._db.execute("SELECT term, doc FROM temp.lexical_vocab WHERE term IN "
                                     "(SELECT value FROM json_each(?))", (json.dumps(sorted(terms)),)))

    def _refresh(self) -> None:
        with self._lock:
            key = (self._db.execute("PRAGMA data_version").fetchone()[0], self._db.total_changes)
            if key == self._key:
                return
            rows = self._db.execute("SELECT rowid, term FROM lexical_terms WHERE rowid > ? ORDER BY rowid",
                                    (self._read_up_to,)).fetchall()
            if rows:  # new objects, not changed ones: a search in another thread may be reading the old
                new = [term for _, term in rows]  # each row is a term not read before (the column is unique)
                self._terms = self._terms | set(new)
                self._reversed = sorted([*self._reversed, *(t[::-1] for t in new)])  # a merge of two sorted runs
                self._read_up_to = rows[-1][0]
            self._key = key

    def _ending_with(self, word: str) -> list[str]:
        tail = word[::-1]
        start = bisect.bisect_left(self._reversed, tail)
        end = bisect.bisect_left(self._reversed, tail + "\U0010ffff", start)
        found = (t[::-1] for t in self._reversed[start:end])
        return [term for term in found if _compound(term[:-len(word)])]


def _dictionary_word(term: str) -> bool:
    """Whether an index term can be a compound or one of its parts (numbers, codes and short words cannot)."""
    return len(term) >= MIN_PART and term.isalpha()


def _splits(word: str, known: frozenset[str], parts: int = MAX_PARTS) -> list[tuple[str, ...]]:
    """Every way to write `word` as `parts` or fewer known terms (a modifier may end in a linking letter)."""
    if len(word) < 2 * MIN_PART or parts < 2:
        return []
    found = []
    for cut in range(MIN_PART, len(word) - MIN_PART + 1):
        head = word[cut:]
        head = head if head in known else stem(head, "de")
        if head not in known:
            continue
        found += [(modifier, head) for modifier in _modifiers(word[:cut], known)]
        found += [(*first, head) for first in _splits(word[:cut], known, parts - 1)]
    return found


def _lone_head(word: str, known: frozenset[str]) -> list[tuple[str, ...]]:
    """The longest known head of at least MIN_HEAD letters of a compound whose modifier is not known."""
    for cut in range(MIN_MODIFIER, len(word) - MIN_HEAD + 1):
        if word[cut:] in known and _compound(word[:cut]):
            return [(word[cut:],)]
    return []


def _compound(modifier: str) -> bool:
    """Whether `modifier` before a word makes a compound of it (not a verb with its particle, "mitbringen")."""
    return len(modifier) >= MIN_MODIFIER and modifier not in PARTICLES


def _modifiers(text: str, known: frozenset[str]) -> list[str]:
    """The known terms a compound's first part `text` can be: itself, or without a linking letter, stemmed."""
    forms = [text] + [text[:-len(link)] for link in LINKERS if text.endswith(link)]
    return list(dict.fromkeys(term for form in forms if len(form) >= MIN_PART
                              for term in (form, stem(form, "de")) if term in known and term not in PARTICLES))


def _mean(parts: tuple[str, ...], counts: dict[str, int]) -> float:
    return prod(counts.get(part, 0) for part in parts) ** (1 / len(parts))
