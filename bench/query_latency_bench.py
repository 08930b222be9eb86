"""Query-embedding latency while the same process indexes a vault (the daemon's writer and its searches share one
model and encode at once).

    python bench/query_latency_bench.py [--notes 100]

Prints one table: p50 / p95 / max milliseconds of `embed_query` for one question, asked every 0.1 s during the index.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
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
    parser.add_argument("--notes", type=int, default=100)
    args = parser.parse_args()
    embedder = Embedder(locate_model(BUNDLED_MODEL))
    embedder.embed_query(["warm up"])
    latencies: list[float] = []
    with tempfile.TemporaryDirectory(prefix="vaultrag-latency-") as tmp:
        vault = Path(tmp) / "vault"
        generate_vault(vault, notes=args.notes, seed=1)
        settings = load_settings(overrides={"vault.path": str(vault), "data.dir": str(Path(tmp) / "data")},
                                 environ={})
        indexing = threading.Thread(target=sync_vault, args=(settings,), kwargs={"embedder": embedder})
        indexing.start()
        while indexing.is_alive():
            started = time.perf_counter()
            embedder.embed_query(["how long should the dough proof before baking?"])
            latencies.append((time.perf_counter() - started) * 1000)
            time.sleep(0.1)
        indexing.join()
    latencies.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print("| notes indexed | queries | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|---|")
    print(f"| {args.notes} | {len(latencies)} | {statistics.median(latencies):.0f} | {p95:.0f} | {latencies[-1]:.0f} |")


if __name__ == "__main__":
    main()
