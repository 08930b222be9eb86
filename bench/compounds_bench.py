"""What looking for German compounds (ingest.compounds) adds to a BM25 query, in a big index.

    python bench/compounds_bench.py               # SciFact's 5,183 abstracts + the German fixture notes
    python bench/compounds_bench.py --docs 1000

The lexical index alone (SQLite FTS5 in memory, no embedding): SciFact's abstracts (a big vocabulary, as a vault of
thousands of notes has) and tests/fixtures/multilingual/de.toml's notes, every German question of the fixture
searched as German with compounds off and on (p50 / p95 ms over 5 rounds); the time to read the index's terms into
memory (once per connection, with its first German query); and the first German query's after a save that wrote a
new word (only the new terms are read).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vaultrag.ingest import compounds  # noqa: E402
from vaultrag.ingest.lexical import LexicalIndex  # noqa: E402
from tests import multilingual_fixture  # noqa: E402

SCIFACT = ROOT.parent / "shared" / "data" / "scifact"
ROUNDS = 5


def timed(lexical: LexicalIndex, questions: list[str]) -> list[float]:
    times = []
    for _ in range(ROUNDS):
        for question in questions:
            started = time.perf_counter()
            lexical.search(question, 50)
            times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SCIFACT)
    parser.add_argument("--docs", type=int, default=0, help="SciFact abstracts to index (0: all)")
    args = parser.parse_args()
    db = sqlite3.connect(":memory:", isolation_level=None)
    lexical = LexicalIndex(db)
    fixture = multilingual_fixture.load(("de",))
    db.execute("BEGIN")
    with open(args.data / "corpus.jsonl", encoding="utf-8") as corpus:
        for n, line in enumerate(corpus):
            if args.docs and n >= args.docs:
                break
            doc = json.loads(line)
            lexical.put(doc["_id"], [doc["title"]], [(doc["_id"], doc["text"])])
    for path, text in fixture.notes.items():
        lexical.put(path, [], [(path, text)])
    db.execute("COMMIT")
    questions = [q.text for q in fixture.questions]
    lexical.query_languages = lambda query: ["de"]  # German holds under 1 % of these chunks: read as English otherwise
    lexical.search(questions[0], 50)  # the language model loads, the terms are read
    chunks = db.execute("SELECT count(*) FROM lexical_chunks").fetchone()[0]
    terms = db.execute("SELECT count(*) FROM temp.lexical_vocab").fetchone()[0]
    rows = {}
    for setting in ("off", "on"):
        compounds.COMPOUNDING = frozenset() if setting == "off" else frozenset({"de"})
        rows[setting] = timed(lexical, questions)
    first_reads, reads = [], []
    for n in range(ROUNDS):
        started = time.perf_counter()
        compounds.Vocabulary(db).extra_terms(["sauerteig"], "de")  # a new connection's first German query
        first_reads.append((time.perf_counter() - started) * 1000)
        lexical.put("bench.md", [], [("bench.md", f"Eine Notiz mit dem neuen Wort Zwischenablage{'abcdefghij'[n]}.")])
        started = time.perf_counter()
        lexical.vocabulary.extra_terms(["sauerteig"], "de")  # the first German query after a save
        reads.append((time.perf_counter() - started) * 1000)
    print(f"{chunks} chunks, {terms} distinct terms; {len(questions)} German questions x {ROUNDS}; BM25 top 50")
    print("| compounds | query p50 ms | query p95 ms |")
    print("|---|---|---|")
    for setting, times in rows.items():
        print(f"| {setting} | {statistics.median(times):.2f} | {times[int(0.95 * len(times))]:.2f} |")
    print(f"reading the index's terms into memory (once per connection): median {statistics.median(first_reads):.1f} ms")
    print(f"the first German query after a save, reading its new terms: median {statistics.median(reads):.1f} ms")


if __name__ == "__main__":
    main()
