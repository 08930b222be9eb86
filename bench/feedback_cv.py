"""Three more ways to improve hybrid search on a BEIR train split, by the same 5-fold cross-validation as
fusion_cv.py, so none ships on a gain that does not hold on queries it was not chosen on.

    vaultrag eval beir ../shared/data/scifact --split train --work /tmp/scifact       # index once (a while)
    vaultrag eval beir ../shared/data/scifact --split train --work /tmp/scifact-128 \\
        --config chunk128.toml                    # optional: [embedding] chunk_tokens = 128, for --finer
    python bench/feedback_cv.py ../shared/data/scifact --work /tmp/scifact [--finer /tmp/scifact-128]

- feedback: pseudo-relevance feedback on the query vector (Rocchio): the query plus `beta` times the mean vector of
  the first `k` notes' best chunks of the fused list, searched again, in place of the first dense list;
- titles: one more list, the notes' titles embedded alone and searched by the query vector, at weight w;
- finer: the dense list of a second index of the same notes in shorter chunks (--finer), fused beside this one's
  (at weight 0.5 each) or in place of it.
Each re-fuses the lists the real Searcher captured (dense, BM25, named notes) exactly as `service.search.fusion`
does; dense lists here are exact (every chunk vector scored), HNSW's are approximate.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fusion_cv import print_cross_validated, searched  # noqa: E402
from vaultrag.config.settings import load_settings  # noqa: E402
from vaultrag.ingest.embedders import open_embedder  # noqa: E402
from vaultrag.service.ops.beir_eval import score_rankings  # noqa: E402
from vaultrag.service.search import fusion  # noqa: E402
from vaultrag.service.search.searcher import Searcher  # noqa: E402

POOL = 100  # retrieval.candidates


class Vectors:
    """Every chunk's vector of one index (normalised), its note, and a search over them."""

    def __init__(self, work: Path, model: str):
        settings = load_settings(overrides={"vault.path": str(work / "notes"), "data.dir": str(work / "data"),
                                            "embedding.model": model, "retrieval.reranker": "off"}, environ={})
        searcher = Searcher(settings)
        try:
            chunks = searcher.read(lambda index: index.store.get(sorted(index.store.all_ids())))
        finally:
            searcher.close()
        self.ids = [hit.id for hit, _ in chunks]
        self.matrix = np.vstack([vector for _, vector in chunks])
        self.matrix /= np.linalg.norm(self.matrix, axis=1, keepdims=True)
        self.path_of = {hit.id: hit.metadata["path"] for hit, _ in chunks}
        self.row = {i: n for n, i in enumerate(self.ids)}
        self.embedder = open_embedder(model, settings)

    def search(self, vector: np.ndarray, prefix: str = "") -> list[tuple[str, float]]:
        scores = self.matrix @ (vector / np.linalg.norm(vector))
        top = np.argpartition(-scores, POOL)[:POOL]
        return [(prefix + self.ids[n], float(scores[n])) for n in top[np.argsort(-scores[top])]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--finer", type=Path, help="a --work folder of the same notes indexed in shorter chunks")
    parser.add_argument("--split", default="train")
    parser.add_argument("--model", default="sentence-transformers/all-MiniLM-L6-v2")
    args = parser.parse_args()
    dataset, paths, captured = searched(args.path, args.work, args.split, args.model)
    index = Vectors(args.work, args.model)
    finer = Vectors(args.finer, args.model) if args.finer else None
    query = {q: index.embedder.embed_query([text])[0] for q, text in dataset.queries.items()}
    notes = sorted(paths)
    titles = index.embedder.embed([note.removesuffix(".md") for note in notes])
    titles /= np.linalg.norm(titles, axis=1, keepdims=True)
    path_of = {**index.path_of, **{"title:" + n: n for n in notes},
               **({"finer:" + i: p for i, p in finer.path_of.items()} if finer else {})}

    def fused(lists) -> list[str]:
        return list(fusion.fuse_by_note(lists, path_of.__getitem__, "scores"))

    def feedback(k: int, beta: float):
        def lists(q, captured_lists):
            top = fusion.cap_per_note(fused(captured_lists), path_of.__getitem__, 1)[:k]
            mean = np.mean([index.matrix[index.row[i]] for i in top], axis=0)
            vector = query[q] / np.linalg.norm(query[q]) + beta * mean
            return [(index.search(vector), 1.0), *captured_lists[1:]]
        return lists

    def title_list(weight: float):
        def lists(q, captured_lists):
            scores = titles @ (query[q] / np.linalg.norm(query[q]))
            top = np.argsort(-scores)[:POOL]
            return [*captured_lists, ([("title:" + notes[n], float(scores[n])) for n in top], weight)]
        return lists

    def finer_list(beside: bool):
        def lists(q, captured_lists):
            fine = (finer.search(query[q], "finer:"), 0.5 if beside else 1.0)
            dense = [(captured_lists[0][0], 0.5)] if beside else []
            return [*dense, fine, *captured_lists[1:]]
        return lists

    variants = {"default": lambda q, captured_lists: captured_lists}
    variants |= {f"feedback k={k} beta={beta:g}": feedback(k, beta) for k in (1, 3, 5, 10) for beta in (0.25, 0.5, 1.0)}
    variants |= {f"titles w={w:g}": title_list(w) for w in (0.25, 0.5, 1.0)}
    if finer:
        variants |= {"finer dense beside": finer_list(True), "finer dense in place": finer_list(False)}
    table = {}
    for name, make in variants.items():
        table[name] = {}
        for q, (captured_lists, _) in captured.items():
            order = fusion.cap_per_note(fused(make(q, captured_lists)), path_of.__getitem__, 1)[:POOL]
            ranking = [paths[path_of[i]] for i in order if path_of[i] in paths]
            table[name][q] = score_rankings({q: ranking}, {q: dataset.qrels[q]})["ndcg_10"]
    print_cross_validated(table, "default", "variant", str)


if __name__ == "__main__":
    main()
