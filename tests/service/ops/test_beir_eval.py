"""`vaultrag eval beir`: the metric code on hand-worked rankings, and the command on a tiny BEIR dataset of our own."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vaultrag.service.ops.beir_eval import score_rankings

VAULTRAG = str(Path(sys.executable).parent / "vaultrag")


def test_metrics_on_a_hand_worked_ranking():
    qrels = {"q1": {"d1": 1, "d2": 2}, "q2": {"d9": 1}}
    rankings = {"q1": ["d3", "d2", "d1"], "q2": [f"x{n}" for n in range(20)] + ["d9"]}
    # q1: DCG = 2/log2(3) + 1/log2(4) = 1.76186; ideal = 2/1 + 1/log2(3) = 2.63093 -> 0.66967. q2: nothing in 10.
    dcg, ideal = 2 / math.log2(3) + 1 / math.log2(4), 2 + 1 / math.log2(3)
    scores = score_rankings(rankings, qrels)
    assert scores["ndcg_10"] == round((dcg / ideal + 0) / 2, 4)
    assert scores["recall_10"] == 0.5  # q1 found both, q2 none in the first 10
    assert scores["recall_100"] == 1.0  # q2's document is 21st
    assert scores["mrr_10"] == round((1 / 2 + 0) / 2, 4)  # q1's first relevant is second


def test_a_query_with_no_results_counts_as_zero():
    assert score_rankings({}, {"q1": {"d1": 1}}) == {"ndcg_10": 0.0, "recall_10": 0.0, "recall_100": 0.0, "mrr_10": 0.0}


@pytest.fixture
def tiny_beir(tmp_path) -> Path:
    folder = tmp_path / "tiny"
    (folder / "qrels").mkdir(parents=True)
    corpus = [
        {"_id": "d1", "title": "Tomato watering", "text": "Water tomatoes deeply twice a week in summer."},
        {"_id": "d2", "title": "Winter tyres", "text": "The car needs new winter tyres in November."},
        {"_id": "d3", "title": "Sourdough", "text": "Feed the sourdough starter with rye flour every morning."},
        {"_id": "d4", "title": "Tax return", "text": "The tax return is due on the last day of July."},
        {"_id": "d5", "title": "A/B: tests?", "text": "Split the visitors into two groups and compare sign-ups."},
    ]
    (folder / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in corpus) + "\n")
    queries = [{"_id": "q1", "text": "how often should tomatoes be watered"},
               {"_id": "q2", "text": "when to change to winter tyres"},
               {"_id": "q3", "text": "a question whose document is not in the corpus"},
               {"_id": "q4", "text": "an unjudged query is not scored"}]
    (folder / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries) + "\n")
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\nq3\tmissing\t1\n")
    return folder


@pytest.mark.slow
def test_eval_beir_indexes_the_dataset_and_scores_every_mode(tiny_beir, tmp_path):
    run = subprocess.run([VAULTRAG, "eval", "beir", str(tiny_beir), "--json", "--work", str(tmp_path / "work")],
                         capture_output=True, text=True, timeout=300, env=_env(tmp_path))
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert (report["documents"], report["queries"]) == (5, 3)
    assert set(report["results"]) == {"dense", "bm25", "hybrid"}
    for mode, scores in report["results"].items():
        # q1 and q2 find their note first; q3's document does not exist: every metric is 2 out of 3
        assert scores["ndcg_10"] == scores["mrr_10"] == scores["recall_10"] == round(2 / 3, 4), mode
        assert scores["queries"] == 3 and scores["p95_ms"] >= scores["p50_ms"] > 0
    assert (tmp_path / "work" / "notes" / "A B tests.md").exists()  # titles become safe file names


def test_eval_beir_names_the_bad_file_and_line(tiny_beir, tmp_path):
    (tiny_beir / "corpus.jsonl").write_text('{"_id": "d1", "text": "fine"}\n{not json\n')
    run = subprocess.run([VAULTRAG, "eval", "beir", str(tiny_beir)], capture_output=True, text=True, timeout=60,
                         env=_env(tmp_path))
    assert run.returncode == 1
    assert "corpus.jsonl line 2: not JSON" in run.stderr
    missing = subprocess.run([VAULTRAG, "eval", "beir", str(tiny_beir), "--split", "dev"], capture_output=True,
                             text=True, timeout=60, env=_env(tmp_path))
    assert missing.returncode == 1 and "qrels/dev.tsv" in missing.stderr


def _env(tmp_path) -> dict:
    return {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_DATA_HOME": str(tmp_path / "share")}
