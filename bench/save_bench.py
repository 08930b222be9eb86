"""CPU time per save: a whole-vault sync (what every watcher batch cost before, and what the periodic sweep still
costs) against a sync of the saved path only (what a watcher batch costs now), at several vault sizes.

    python bench/save_bench.py [--notes 500,2000,5000] [--saves 10] [--touch] [--work DIR]

For each size it generates a vault (bench/generate_vault.py, seed 1) and indexes it once, then edits one note at a
time (an appended line, so one chunk is re-embedded both ways; with --touch only its mtime changes, so nothing is
embedded and what is left is the sync's own cost) and syncs it both ways. Prints one table of CPU milliseconds (this
process, all threads) per save. Indexing 5,000 notes with the real model takes many minutes on 2 cores: with
`--work DIR` each size's vault and index are kept in DIR/<notes>/ and reused by the next run, which then measures
saves only (a first no-change sync brings the kept index up to date). With `--quick-build` the first index gets
seeded random unit vectors instead of the model's (minutes instead of an hour at 5,000 notes on 2 busy cores): the
manifest, BM25 rows and store hold as many chunks as a real build, and the saves are embedded by the real model, so
the CPU per save is the same; only search quality on that index is meaningless.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench.generate_vault import generate_vault  # noqa: E402
from vaultrag.config.settings import load_settings  # noqa: E402
from vaultrag.ingest.embedder import BUNDLED_MODEL, Embedder, locate_model  # noqa: E402
from vaultrag.ingest.pipeline import VaultIndexer  # noqa: E402

class QuickFirstIndex(Embedder):
    """The bundled model, except that passages encoded while `quick` is set get seeded random unit vectors."""

    quick = False

    def _vectors(self, texts: list[str], query: bool):
        if not self.quick or query:
            return super()._vectors(texts, query)
        vectors = np.random.default_rng(len(texts)).standard_normal((len(texts), self.dimension), dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


WAYS = ("whole vault (sweep, the old watcher batch)", "saved path only (watcher batch)")


def measure(work: Path, notes: int, saves: int, touch: bool, embedder: QuickFirstIndex) -> tuple[str, dict[str, list[float]]]:
    """CPU seconds per save both ways on a vault of `notes` generated notes kept (with its index) in `work`."""
    vault, data = work / "vault", work / "data"
    if not vault.is_dir():
        generate_vault(vault, notes=notes, seed=1)
    settings = load_settings(overrides={"vault.path": str(vault), "data.dir": str(data)}, environ={})
    names = sorted(p.relative_to(vault).as_posix() for p in vault.rglob("*.md")
                   if not {".trash", ".obsidian"} & set(p.parts))
    cpu: dict[str, list[float]] = {way: [] for way in WAYS}
    with VaultIndexer(settings, embedder) as indexer:
        started = time.perf_counter()
        total = indexer.sync()  # the first index, or a no-change sync of a kept one
        embedder.quick = False
        print(f"{notes} notes: first sync {time.perf_counter() - started:.0f} s", file=sys.stderr)
        for n in range(saves):
            for way in WAYS:
                note = names[(2 * n + (way == WAYS[1])) * 7 % len(names)]
                if touch:
                    stamp = time.time() + n
                    os.utime(vault / note, (stamp, stamp))
                else:
                    with open(vault / note, "a", encoding="utf-8") as f:
                        f.write(f"\nSaved edit number {n} of this benchmark, {time.time()}.\n")
                started = time.process_time()
                indexer.sync(paths=None if way == WAYS[0] else {note})
                cpu[way].append(time.process_time() - started)
    return f"{total.files_total} notes, {total.chunks_total} chunks", cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", default="500,2000,5000", help="vault sizes, comma-separated")
    parser.add_argument("--saves", type=int, default=10)
    parser.add_argument("--touch", action="store_true", help="saves that change the mtime only")
    parser.add_argument("--work", type=Path, help="keep each size's vault and index here, and reuse them")
    parser.add_argument("--quick-build", action="store_true", help="random vectors for the first index only")
    args = parser.parse_args()
    embedder = QuickFirstIndex(locate_model(BUNDLED_MODEL))
    rows = []
    with ExitStack() as stack:
        work = args.work or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="vaultrag-saves-")))
        for notes in (int(n) for n in args.notes.split(",")):
            embedder.quick = args.quick_build
            rows.append(measure(work / str(notes), notes, args.saves, args.touch, embedder))
    if args.quick_build:
        print("(first index built with random vectors: --quick-build)")
    print(f"| vault | way | CPU ms per save (median of {args.saves}) | min | max |")
    print("|---|---|---|---|---|")
    for vault, cpu in rows:
        for way, seconds in cpu.items():
            print(f"| {vault} | {way} | {1000 * statistics.median(seconds):.0f} | {1000 * min(seconds):.0f} | "
                  f"{1000 * max(seconds):.0f} |")


if __name__ == "__main__":
    main()
