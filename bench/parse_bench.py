"""How long the Markdown parser takes on a 2 MB note and on the pathological lines tests/ingest/test_markdown.py
feeds it (each should stay well under a second: the parser is linear in its input, and refuses a YAML alias
bomb before expanding it), and how long the chunker takes on that 2 MB note in the bundled model's tokens.

    python bench/parse_bench.py [--repeat 3]

Prints one table: best wall time of `--repeat` parses per input.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vaultrag.ingest.chunking import chunk_note  # noqa: E402
from vaultrag.ingest.embedder import BUNDLED_MODEL, locate_model  # noqa: E402
from vaultrag.ingest.markdown import parse_note  # noqa: E402

BLOCK = "## Part\nSome words with a [[Link|alias]] and #tag and `code`.\n```\ncode\n```\n> [!note] N\n> quoted\n\n"
INPUTS = {
    "2 MB note (sections, links, tags, code, callouts)": BLOCK * (2_000_000 // len(BLOCK)),
    "heading with 50,000 spaces": "# a" + " " * 50_000 + "b",
    "50,000 spaces before a block id": "a" + " " * 50_000 + "b ^",
    "50,000 newlines": "x" + "\n" * 50_000 + "y",
    "50,000 nested quotes then a fence": "> " * 50_000 + "```",
    "20,000 unclosed links": "[a](b " * 20_000,
    "backtick runs of 1..999": "".join("`" * length + "x" for length in range(1, 1_000)),
    "20,000 unclosed comments": "%% `" * 20_000,
    "YAML alias bomb (9^9 values)": "---\nl0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"l{n + 1}: &l{n + 1} [{', '.join([f'*l{n}'] * 9)}]\n" for n in range(8)) + "tags: [x]\n---\nBody text\n",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"| input | chars | parse s (best of {args.repeat}) |")
    print("|---|---|---|")
    for name, text in INPUTS.items():
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            parse_note("Bench/Note.md", text)
            times.append(time.perf_counter() - started)
        print(f"| {name} | {len(text):,} | {min(times):.3f} |")
    files = locate_model(BUNDLED_MODEL)
    note = parse_note("Bench/Note.md", INPUTS[next(iter(INPUTS))])
    started = time.perf_counter()
    chunks = chunk_note(note, files.tokens, files.max_seq_length - files.tokens.special_tokens)
    print(f"\nchunking the 2 MB note: {len(chunks):,} chunks in {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
