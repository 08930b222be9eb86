"""How score fusion normalises each list, chosen by 5-fold cross-validation on a BEIR train split (as fusion_cv.py
chooses the method and weights), so a change of normalisation ships only if it holds on queries it was not chosen on.

    vaultrag eval beir ../shared/data/scifact --split train --work /tmp/scifact   # index once (a while)
    python bench/normalisation_cv.py ../shared/data/scifact --work /tmp/scifact

Normalisations of each list's scores before the weighted sum (`service.search.fusion`'s "scores" method):
- minmax: (score - lowest) / (highest - lowest) over the list (the default);
- max: score / highest, the theoretical minimum 0 in place of the list's lowest ("TM2C2" in Bruch et al., "An
  Analysis of Fusion Functions for Hybrid Retrieval", 2023);
- z: (score - mean) / standard deviation over the list.
Each with the BM25 list weighted 0.5 to 1.5. Prints nDCG@10 on all queries and per fold for every candidate, then
the candidate chosen on four folds and its score on the fifth, against the default.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fusion_cv import ndcg_per_query, print_cross_validated, searched_from_arguments  # noqa: E402
from vaultrag.service.search import fusion  # noqa: E402

WEIGHTS = (0.5, 0.75, 1.0, 1.25, 1.5)
DEFAULT = ("minmax", 1.0)


def normalised(kind: str, scores: list[float]):
    """The function `kind` applies to each score of a list holding `scores`."""
    high, low = max(scores), min(scores)
    if kind == "max":
        return lambda s: s / high if high > 0 else 1.0
    if kind == "z":
        mean, spread = statistics.mean(scores), statistics.pstdev(scores) or 1.0
        return lambda s: (s - mean) / spread
    return lambda s: (s - low) / (high - low) if high > low else 1.0


def main() -> None:
    dataset, paths, captured = searched_from_arguments(__doc__)
    real = fusion._contributions
    table = {}
    try:
        for kind in ("minmax", "max", "z"):
            def contributions(ranked, weight, method, kind=kind):
                if method == "rrf" or not ranked:
                    return real(ranked, weight, method)
                scale = normalised(kind, [score for _, score in ranked])
                return [(item, weight * scale(score)) for item, score in ranked]

            fusion._contributions = contributions  # read by fuse_by_note at call time
            for weight in WEIGHTS:
                table[(kind, weight)] = ndcg_per_query(captured, paths, dataset.qrels, ("scores", weight, fusion.RRF_K))
    finally:
        fusion._contributions = real
    print_cross_validated(table, DEFAULT, "normalisation | BM25 weight", lambda c: f"{c[0]} | {c[1]:g}")


if __name__ == "__main__":
    main()
