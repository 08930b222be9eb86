"""Indexing speed and memory: a full index against raw `model.encode` of the same chunk texts, then a no-change re-run.

    python bench/index_bench.py                           # kepano vault (../shared/data) + a generated 5,000-note vault
    python bench/index_bench.py --vault PATH --notes 0    # your own vault only

Prints one table. The pipeline's cost is reported as a ratio to raw encoding, measured in the same run on the same
texts with the same model and batch size: that is the floor on this machine. Never copies a vault into the repo.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from vaultrag.config.settings import load_settings  # noqa: E402
from vaultrag.ingest.embedder import BUNDLED_MODEL, Embedder, locate_model  # noqa: E402
from vaultrag.ingest.index import DataDir  # noqa: E402
from vaultrag.ingest.pipeline import sync_vault  # noqa: E402

KEPANO = ROOT.parent / "shared" / "data" / "vaults" / "kepano-obsidian"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_vault(name: str, vault: Path, embedder: Embedder) -> dict:
    data = Path(tempfile.mkdtemp(prefix="vaultrag-bench-"))
    settings = load_settings(overrides={"vault.path": str(vault), "data.dir": str(data)}, environ={})
    started = time.perf_counter()
    full = sync_vault(settings, embedder=embedder)
    full_s = time.perf_counter() - started
    rss_after_index = peak_rss_mb()

    index = DataDir(data).open_active()
    texts = index.store._collection.get(include=["documents"])["documents"]
    index.close()
    started = time.perf_counter()
    embedder.embed(texts)
    raw_s = time.perf_counter() - started

    started = time.perf_counter()
    again = sync_vault(settings, embedder=embedder)
    rerun_s = time.perf_counter() - started

    started = time.perf_counter()
    cli = subprocess.run([str(Path(sys.executable).parent / "vaultrag"), "index", "--json", "--vault", str(vault),
                          "--data-dir", str(data)], capture_output=True, text=True, check=True)
    cli_s = time.perf_counter() - started
    cli_summary = json.loads(cli.stdout)
    return {
        "vault": name, "notes": full.files_total, "chunks": full.chunks_total,
        "full_s": full_s, "notes_per_s": full.files_total / full_s, "chunks_per_s": full.chunks_total / full_s,
        "embedded": full.embedded,
        "raw_encode_s": raw_s, "overhead": full_s / raw_s - 1, "peak_rss_mb": rss_after_index,
        "rerun_s": rerun_s, "rerun_share": rerun_s / full_s, "rerun_embedded": again.embedded,
        "cli_rerun_s": cli_s, "cli_rerun_embedded": cli_summary["embedded"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vault", type=Path, action="append", help="a vault to index (repeatable)")
    parser.add_argument("--notes", type=int, default=5000, help="size of the generated vault (0: none)")
    args = parser.parse_args()
    vaults = [(v.name, v) for v in (args.vault or [])]
    if not args.vault and KEPANO.is_dir():
        vaults.append(("kepano-obsidian", KEPANO))
    if args.notes:
        from generate_vault import generate_vault

        generated = Path(tempfile.mkdtemp(prefix="vaultrag-gen-")) / "vault"
        generate_vault(generated, args.notes, seed=1)
        vaults.append((f"generated-{args.notes}", generated))

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    started = time.perf_counter()
    embedder = Embedder(locate_model(BUNDLED_MODEL), device="cpu")
    embedder.embed(["warm up"])
    load_s = time.perf_counter() - started
    print(f"model {BUNDLED_MODEL}: import + load {load_s:.1f} s, peak RSS {peak_rss_mb():.0f} MB, "
          f"{os.cpu_count()} cores")

    rows = [bench_vault(name, path, embedder) for name, path in vaults]
    header = ("vault", "notes", "chunks", "full s", "notes/s", "chunks/s", "raw encode s", "overhead",
              "peak RSS MB", "re-run s", "re-run/full", "re-run embedded", "CLI re-run s", "CLI embedded")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print(f"| {r['vault']} | {r['notes']} | {r['chunks']} | {r['full_s']:.1f} | {r['notes_per_s']:.1f} | "
              f"{r['chunks_per_s']:.1f} | {r['raw_encode_s']:.1f} | {r['overhead']:+.0%} | {r['peak_rss_mb']:.0f} | "
              f"{r['rerun_s']:.2f} | {r['rerun_share']:.1%} | {r['rerun_embedded']} | {r['cli_rerun_s']:.2f} | "
              f"{r['cli_rerun_embedded']} |")


if __name__ == "__main__":
    main()
