"""The cost of durable commits: a full index and a no-change sync of a small generated vault.

    python bench/durability_bench.py [--notes 200] [--reruns 5]

Prints one table. Run it on two commits to compare (the vault and model are the same each time).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate_vault import generate_vault  # noqa: E402
from vaultrag.config.settings import load_settings  # noqa: E402
from vaultrag.ingest.embedder import BUNDLED_MODEL, Embedder, locate_model  # noqa: E402
from vaultrag.ingest.pipeline import sync_vault  # noqa: E402

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=200)
    parser.add_argument("--reruns", type=int, default=5)
    args = parser.parse_args()
    embedder = Embedder(locate_model(BUNDLED_MODEL))
    with tempfile.TemporaryDirectory(prefix="vaultrag-durability-") as tmp:
        vault, data = Path(tmp) / "vault", Path(tmp) / "data"
        generate_vault(vault, notes=args.notes, seed=1)
        settings = load_settings(overrides={"vault.path": str(vault), "data.dir": str(data)}, environ={})
        started = time.perf_counter()
        full = sync_vault(settings, embedder=embedder)
        full_s = time.perf_counter() - started
        reruns = []
        for _ in range(args.reruns):
            started = time.perf_counter()
            sync_vault(settings, embedder=embedder)
            reruns.append(time.perf_counter() - started)
    reruns.sort()
    print(f"| notes | chunks | full index s | no-change sync s (median of {args.reruns}) |")
    print("|---|---|---|---|")
    print(f"| {full.files_total} | {full.chunks_total} | {full_s:.2f} | {reruns[len(reruns) // 2]:.3f} |")


if __name__ == "__main__":
    main()
