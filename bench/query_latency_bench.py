"""Query-embedding latency while the same process indexes a vault (the daemon's writer and its searches share one
model and encode at once), and the time that first index takes.

    python bench/query_latency_bench.py [--notes 100] [--runtime "ONNX fp32"]   # or "torch fp32", "ONNX int8"

Prints one table: the index's time and chunks, and p50 / p95 / max milliseconds of `embed_query` for one question,
asked every 0.1 s during the index.
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
from bench.embed_bench import RUNTIMES, settings_for  # noqa: E402
from vaultrag.ingest.embedders import configured_embedder  # noqa: E402
from vaultrag.ingest.pipeline import sync_vault  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=100)
    parser.add_argument("--runtime", choices=list(RUNTIMES), default="ONNX fp32")
    args = parser.parse_args()
    latencies: list[float] = []
    summaries = []
    with tempfile.TemporaryDirectory(prefix="vaultrag-latency-") as tmp:
        vault = Path(tmp) / "vault"
        generate_vault(vault, notes=args.notes, seed=1)
        settings = settings_for(args.runtime, vault, Path(tmp) / "data")
        embedder = configured_embedder(settings)
        embedder.embed_query(["warm up"])  # loads the model (and exports the ONNX file once)
        indexing = threading.Thread(target=lambda: summaries.append(sync_vault(settings, embedder=embedder)))
        started_index = time.perf_counter()
        indexing.start()
        while indexing.is_alive():
            started = time.perf_counter()
            embedder.embed_query(["how long should the dough proof before baking?"])
            latencies.append((time.perf_counter() - started) * 1000)
            time.sleep(0.1)
        indexing.join()
        index_s = time.perf_counter() - started_index
    latencies.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    chunks = summaries[0].chunks_total if summaries else 0
    print("| runtime | notes indexed | chunks | index s | queries | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {args.runtime} | {args.notes} | {chunks} | {index_s:.0f} | {len(latencies)} | "
          f"{statistics.median(latencies):.0f} | {p95:.0f} | {latencies[-1]:.0f} |")


if __name__ == "__main__":
    main()
