"""CPU time per save: a whole-vault sync (what every watcher batch cost before) against a sync of the saved path.

    python bench/save_bench.py [--notes 300] [--saves 10] [--touch]

Indexes a generated vault once, then edits one note at a time (an appended line, so one chunk is re-embedded in
both; with --touch only its mtime changes, so nothing is embedded and what is left is the sync's own
cost) and syncs it both ways. Prints one table of CPU seconds (this process, all threads) per save.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate_vault import generate_vault  # noqa: E402
from vaultrag.config.settings import load_settings  # noqa: E402
from vaultrag.ingest.embedder import BUNDLED_MODEL, Embedder, locate_model  # noqa: E402
from vaultrag.ingest.pipeline import VaultIndexer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=300)
    parser.add_argument("--saves", type=int, default=10)
    parser.add_argument("--touch", action="store_true", help="saves that change the mtime only")
    args = parser.parse_args()
    embedder = Embedder(locate_model(BUNDLED_MODEL))
    with tempfile.TemporaryDirectory(prefix="vaultrag-saves-") as tmp:
        vault, data = Path(tmp) / "vault", Path(tmp) / "data"
        generate_vault(vault, notes=args.notes, seed=1)
        settings = load_settings(overrides={"vault.path": str(vault), "data.dir": str(data)}, environ={})
        notes = sorted(p.relative_to(vault).as_posix() for p in vault.rglob("*.md") if ".trash" not in p.parts)
        cpu: dict[str, list[float]] = {"whole vault": [], "saved path only": []}
        with VaultIndexer(settings, embedder) as indexer:
            total = indexer.sync()
            for n in range(args.saves):
                for way, paths in (("whole vault", None), ("saved path only", "one")):
                    note = notes[(2 * n + (paths is not None)) * 7 % len(notes)]
                    if args.touch:
                        os.utime(vault / note, (time.time() + n, time.time() + n))
                    else:
                        with open(vault / note, "a", encoding="utf-8") as f:
                            f.write(f"\nSaved edit number {n} of this benchmark.\n")
                    started = time.process_time()
                    indexer.sync(paths={note} if paths else None)
                    cpu[way].append(time.process_time() - started)
    print(f"| vault | way | CPU s per save (median of {args.saves}) |")
    print("|---|---|---|")
    for way, seconds in cpu.items():
        print(f"| {total.files_total} notes, {total.chunks_total} chunks | {way} | {statistics.median(seconds):.3f} |")


if __name__ == "__main__":
    main()
