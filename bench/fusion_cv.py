"""Choosing the hybrid fusion by k-fold cross-validation on a BEIR train split, so the choice holds on unseen queries.

    vaultrag eval beir ../shared/data/scifact --split train --work /tmp/scifact   # index once (a while)
    python bench/fusion_cv.py ../shared/data/scifact --work /tmp/scifact          # then this, any number of times

Each judged query is searched once in hybrid mode through the real Searcher; the lists it fuses (dense, BM25,
notes named in the query, with their weights) are kept, and every candidate fusion (method x BM25 weight x RRF
constant) re-fuses them exactly as `service.search.fusion` does (SciFact has no links and the reranker is off,
so nothing else moves the order). The queries are split into FOLDS folds; for each fold the candidate with the
best mean nDCG@10 on the other folds is chosen and scored on the held-out fold. Prints, per fold, the chosen
candidate with its train and held-out nDCG@10, and the held-out mean of the chosen candidates against fixed
ones (plain RRF, the current default).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vaultrag.config.settings import load_settings  # noqa: E402
from vaultrag.service.ops.beir_eval import load_beir, score_rankings, write_notes  # noqa: E402
from vaultrag.service.search import fusion, searcher as searcher_module  # noqa: E402
from vaultrag.service.search.searcher import Searcher  # noqa: E402

FOLDS = 5
BM25_WEIGHTS = (0.3, 0.5, 0.7, 1.0, 1.5, 2.0)
RRF_KS = (10, 30, 60)


@contextmanager
def bm25_weight(weight: float):
    """Hybrid search inside the block weighs the BM25 list `weight` (the searcher's own weight is per model)."""
    real = searcher_module._bm25_weight
    searcher_module._bm25_weight = lambda model_id: weight
    try:
        yield
    finally:
        searcher_module._bm25_weight = real


def captured_lists(settings, dataset) -> dict[str, tuple[list, dict]]:
    """query id -> (the (ranked, weight) lists hybrid search fused, chunk id -> note path)."""
    captured: dict[str, tuple[list, dict]] = {}
    real = searcher_module.fuse_by_note
    current: list[str] = []

    def capture(lists, note_of, method="scores"):
        captured[current[0]] = ([(list(ranked), weight) for ranked, weight in lists], note_of.__self__.copy())
        return real(lists, note_of, method)

    searcher_module.fuse_by_note = capture
    searcher = Searcher(settings)
    try:
        for query_id, text in dataset.queries.items():
            current[:] = [query_id]
            searcher.search(text, 100, "hybrid", per_note=1)
    finally:
        searcher_module.fuse_by_note = real
        searcher.close()
    return captured


def searched_from_arguments(doc: str):
    """What `searched` gives for the command line's dataset, --work folder, --split and --model."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--work", type=Path, required=True, help="the --work folder `vaultrag eval beir` indexed")
    parser.add_argument("--split", default="train")
    parser.add_argument("--model", default="sentence-transformers/all-MiniLM-L6-v2")
    args = parser.parse_args()
    return searched(args.path, args.work, args.split, args.model)


def searched(path: Path, work: Path, split: str, model: str):
    """The dataset, its note paths, and every judged query's captured lists, searched in the index `vaultrag eval
    beir --work` built."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    dataset = load_beir(path, split)
    paths = write_notes(dataset, work / "notes")
    settings = load_settings(overrides={"vault.path": str(work / "notes"), "data.dir": str(work / "data"),
                                        "embedding.model": model, "retrieval.reranker": "off"}, environ={})
    return dataset, paths, captured_lists(settings, dataset)


def candidates() -> list[tuple[str, float, int]]:
    return ([("scores", w, fusion.RRF_K) for w in BM25_WEIGHTS] +
            [("rrf", w, k) for w in BM25_WEIGHTS for k in RRF_KS])


def ndcg_per_query(captured, paths, qrels, candidate) -> dict[str, float]:
    method, bm25_weight, rrf_k = candidate
    fusion.RRF_K = rrf_k  # read by fuse_by_note at call time
    scores = {}
    for query_id, (lists, path_of) in captured.items():
        weighted = [(ranked, bm25_weight if n == 1 else weight) for n, (ranked, weight) in enumerate(lists)]
        fused = fusion.fuse_by_note(weighted, path_of.__getitem__, method)
        order = fusion.cap_per_note(fused, path_of.__getitem__, 1)[:100]
        ranking = [paths[path_of[i]] for i in order if path_of[i] in paths]
        scores[query_id] = score_rankings({query_id: ranking}, {query_id: qrels[query_id]})["ndcg_10"]
    return scores


def print_cross_validated(table: dict, default, columns: str, cells) -> None:
    """`table` (candidate -> query id -> nDCG@10) per fold, then the candidate chosen on the other folds and its
    held-out score against `default`'s; `columns` heads the candidate's cells, `cells(candidate)` fills them."""
    ids = sorted(table[default])
    random.Random(17).shuffle(ids)
    folds = [ids[n::FOLDS] for n in range(FOLDS)]
    mean = lambda candidate, queries: statistics.mean(table[candidate][q] for q in queries)  # noqa: E731
    width = columns.count("|") + 1
    print(f"{len(ids)} queries, {FOLDS} folds; nDCG@10\n\n| {columns} | all | "
          + " | ".join(f"fold {n + 1}" for n in range(FOLDS)) + " |\n|" + "---|" * (width + 1 + FOLDS))
    for candidate in table:
        print(f"| {cells(candidate)} | {mean(candidate, ids):.4f} | "
              + " | ".join(f"{mean(candidate, fold):.4f}" for fold in folds) + " |")
    held, kept = [], []
    print("\n| fold | chosen on the other folds | held-out | default held-out |\n|---|---|---|---|")
    for n, fold in enumerate(folds):
        chosen = max(table, key=lambda candidate: mean(candidate, [q for q in ids if q not in set(fold)]))
        held.append(mean(chosen, fold))
        kept.append(mean(default, fold))
        print(f"| {n + 1} | {cells(chosen).replace(' | ', ', ')} | {held[-1]:.4f} | {kept[-1]:.4f} |")
    print(f"| mean | | {statistics.mean(held):.4f} | {statistics.mean(kept):.4f} |")


def describe(candidate) -> str:
    method, weight, k = candidate
    return f"{method} bm25 x{weight:g}" + (f" k={k}" if method == "rrf" else "")


def main() -> None:
    dataset, paths, captured = searched_from_arguments(__doc__)
    table = {candidate: ndcg_per_query(captured, paths, dataset.qrels, candidate) for candidate in candidates()}
    ids = sorted(captured)
    random.Random(17).shuffle(ids)
    folds = [ids[n::FOLDS] for n in range(FOLDS)]
    mean = lambda candidate, queries: statistics.mean(table[candidate][q] for q in queries)  # noqa: E731
    print(f"{len(ids)} queries, {FOLDS} folds, {len(table)} candidates; nDCG@10")
    print("| fold | chosen on the other folds | train | held-out | plain RRF held-out | default held-out |")
    print("|---|---|---|---|---|---|")
    plain, default = ("rrf", 1.0, 60), ("scores", 1.0, 60)
    held = {"chosen": [], "plain": [], "default": []}
    for n, fold in enumerate(folds):
        train = [q for q in ids if q not in set(fold)]
        chosen = max(table, key=lambda candidate: mean(candidate, train))
        held["chosen"].append(mean(chosen, fold))
        held["plain"].append(mean(plain, fold))
        held["default"].append(mean(default, fold))
        print(f"| {n + 1} | {describe(chosen)} | {mean(chosen, train):.4f} | {held['chosen'][-1]:.4f} | "
              f"{held['plain'][-1]:.4f} | {held['default'][-1]:.4f} |")
    print(f"| mean | | | {statistics.mean(held['chosen']):.4f} | {statistics.mean(held['plain']):.4f} | "
          f"{statistics.mean(held['default']):.4f} |")
    print("\nall queries, each candidate:")
    for candidate in sorted(table, key=lambda c: -mean(c, ids)):
        print(f"  {describe(candidate):24} {mean(candidate, ids):.4f}")


if __name__ == "__main__":
    main()
