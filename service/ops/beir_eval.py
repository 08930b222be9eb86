"""`vaultrag eval beir`: measure retrieval on a BEIR-format dataset with the same code that serves questions.

A BEIR folder holds `corpus.jsonl` ({"_id", "title", "text"}), `queries.jsonl` ({"_id", "text"}) and
`qrels/<split>.tsv` (query-id, corpus-id, score; a header line). Each document becomes one note named by its
title, the notes are indexed into a work folder (throwaway unless one is given, so a second run indexes nothing),
and every judged query is searched in each mode. Metrics follow BEIR's (pytrec_eval's) definitions: nDCG@10 with
graded gains, Recall@10 and @100, MRR@10; all averaged over the judged queries.
"""

from __future__ import annotations

import json
import math
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from vaultrag.config.errors import ConfigError
from vaultrag.config.settings import Settings

MODES = ("dense", "bm25", "hybrid")
_UNSAFE_IN_NAME = re.compile(r'[\\/:*?"<>|#^\[\]\x00-\x1f]+')
MAX_NAME_BYTES = 150


@dataclass(frozen=True)
class BeirDataset:
    documents: dict[str, tuple[str, str]]  # id -> (title, text)
    queries: dict[str, str]  # id -> text, only the judged ones
    qrels: dict[str, dict[str, int]]  # query id -> {document id: grade}


@dataclass(frozen=True)
class Scores:
    ndcg_10: float
    recall_10: float
    recall_100: float
    mrr_10: float
    p50_ms: float
    p95_ms: float
    queries: int


def load_beir(folder: Path, split: str) -> BeirDataset:
    """Read the dataset; a missing file or a bad line is a ConfigError naming the file and the line."""
    qrels: dict[str, dict[str, int]] = {}
    qrels_file = folder / "qrels" / f"{split}.tsv"
    for n, line in _lines(qrels_file):
        parts = line.split("\t")
        if n == 1 and not parts[-1].strip().lstrip("-").isdigit():
            continue  # the header
        if len(parts) != 3 or not parts[2].strip().lstrip("-").isdigit():
            raise ConfigError(f"{qrels_file} line {n}: expected query-id<TAB>corpus-id<TAB>score, got {line[:80]!r}")
        qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    documents = {doc["_id"]: (doc.get("title") or "", doc.get("text") or "")
                 for doc in _records(folder / "corpus.jsonl", "_id")}
    queries = {q["_id"]: q.get("text") or "" for q in _records(folder / "queries.jsonl", "_id") if q["_id"] in qrels}
    missing = sorted(set(qrels) - set(queries))
    if missing:
        raise ConfigError(f"{folder / 'queries.jsonl'}: {len(missing)} judged queries are missing, e.g. {missing[0]!r}")
    return BeirDataset(documents, queries, qrels)


def write_notes(dataset: BeirDataset, vault: Path) -> dict[str, str]:
    """One note per document, named by its title; returns note path -> document id. Existing notes are kept."""
    vault.mkdir(parents=True, exist_ok=True)
    paths: dict[str, str] = {}
    for doc_id, (title, text) in dataset.documents.items():
        name = _note_name(title or doc_id)
        path = f"{name}.md"
        n = 2
        while path in paths:
            path = f"{name} ({n}).md"
            n += 1
        paths[path] = doc_id
        file = vault / path
        if not file.exists():
            file.write_text(text + "\n", encoding="utf-8")
    return paths


def score_rankings(rankings: dict[str, list[str]], qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    """nDCG@10, Recall@10, Recall@100 and MRR@10 of ranked document ids per query, averaged over `qrels`' queries."""
    totals = {"ndcg_10": 0.0, "recall_10": 0.0, "recall_100": 0.0, "mrr_10": 0.0}
    for query_id, judged in qrels.items():
        ranked = list(dict.fromkeys(rankings.get(query_id, [])))  # a document counts once, where first found
        relevant = {d for d, grade in judged.items() if grade > 0}
        dcg = sum(judged.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:10]))
        ideal = sum(g / math.log2(i + 2) for i, g in enumerate(sorted(judged.values(), reverse=True)[:10]) if g > 0)
        totals["ndcg_10"] += dcg / ideal if ideal else 0.0
        if relevant:
            totals["recall_10"] += len(relevant & set(ranked[:10])) / len(relevant)
            totals["recall_100"] += len(relevant & set(ranked[:100])) / len(relevant)
        first = next((i for i, d in enumerate(ranked[:10], start=1) if d in relevant), None)
        totals["mrr_10"] += 1 / first if first else 0.0
    return {name: round(total / max(len(qrels), 1), 4) for name, total in totals.items()}


def evaluate(settings: Settings, dataset: BeirDataset, paths: dict[str, str], modes: list[str]) -> dict[str, Scores]:
    """Search every judged query in each mode against the index of `settings` (already built)."""
    from vaultrag.service.search.searcher import Searcher

    searcher = Searcher(settings)
    try:
        searcher.search("warm up the model", 1)  # loading the model is not query latency
        results = {}
        for mode in modes:
            rankings, seconds = {}, []
            for query_id, text in dataset.queries.items():
                started = time.perf_counter()
                found = searcher.search(text, 100, mode, per_note=1)
                seconds.append(time.perf_counter() - started)
                rankings[query_id] = [paths[r.path] for r in found if r.path in paths]
            metrics = score_rankings(rankings, dataset.qrels)
            ms = sorted(s * 1000 for s in seconds)
            results[mode] = Scores(**metrics, p50_ms=round(statistics.median(ms), 1),
                                   p95_ms=round(ms[min(len(ms) - 1, int(0.95 * len(ms)))], 1), queries=len(ms))
        return results
    finally:
        searcher.close()


def _note_name(title: str) -> str:
    name = _UNSAFE_IN_NAME.sub(" ", title).strip().strip(".") or "untitled"
    name = re.sub(r"\s+", " ", name)
    while len(name.encode("utf-8")) > MAX_NAME_BYTES:
        name = name[:-1]
    return name.strip()


def _lines(file: Path):
    try:
        with file.open(encoding="utf-8") as handle:
            for n, line in enumerate(handle, start=1):
                if line.strip():
                    yield n, line.rstrip("\n")
    except OSError as exc:
        raise ConfigError(f"cannot read {file}: {exc.strerror or exc}") from None


def _records(file: Path, key: str):
    for n, line in _lines(file):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{file} line {n}: not JSON ({exc.msg})") from None
        if not isinstance(record, dict) or not isinstance(record.get(key), str):
            raise ConfigError(f"{file} line {n}: no {key!r} string")
        yield record
