"""What vaultrag adds before the first token of an answer, on a ~10,000-chunk index, against the LLM alone.

    python bench/answer_bench.py                  # a generated vault of about 10,000 chunks, 30 questions
    python bench/answer_bench.py --notes 500 --questions 10

The LLM is SmolLM2-135M under llama.cpp's server (xllamacpp, the test suite's model), through the `openai` backend.
Reported, p50/p95 in ms:
- retrieval + prompt for a first question (embedding the query, Chroma search, building the prompt);
- time to first token of the LLM alone on the same prompt (measured after, so llama.cpp's prompt cache cannot
  favour it);
- a follow-up question's rewrite into a standalone query (one extra short LLM call), separately.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from vaultrag.config.settings import load_settings  # noqa: E402
from vaultrag.ingest.embedder import BUNDLED_MODEL, Embedder, locate_model  # noqa: E402
from vaultrag.ingest.pipeline import sync_vault  # noqa: E402
from vaultrag.service.answering.answerer import Answerer  # noqa: E402
from vaultrag.service.llm.base import ChatOptions  # noqa: E402
from vaultrag.service.llm.factory import make_backend  # noqa: E402
from vaultrag.service.search.searcher import Searcher  # noqa: E402
from tests.llm_servers import SMOLLM2_ALIAS, serve_smollm2  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def first_token_ms(pieces) -> float:
    started = time.perf_counter()
    for piece in pieces:
        if isinstance(piece, str) and piece:
            elapsed = (time.perf_counter() - started) * 1000
            for _ in pieces:  # drain, so the server is idle for the next call
                pass
            return elapsed
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=2200, help="generated notes (2,200 give about 10,000 chunks)")
    parser.add_argument("--questions", type=int, default=30)
    parser.add_argument("--work", type=Path, help="a folder from an earlier run (vault/ and data/) to reuse")
    args = parser.parse_args()
    from generate_vault import generate_vault

    work = args.work or Path(tempfile.mkdtemp(prefix="vaultrag-answer-bench-"))
    if not (work / "vault").is_dir():
        generate_vault(work / "vault", args.notes, seed=2)
    settings = load_settings(overrides={"vault.path": str(work / "vault"), "data.dir": str(work / "data"),
                                        "llm.backend": "openai", "llm.model": SMOLLM2_ALIAS,
                                        "llm.context_tokens": 2048, "llm.answer_tokens": 16}, environ={})
    embedder = Embedder(locate_model(BUNDLED_MODEL), device="cpu")
    started = time.perf_counter()
    summary = sync_vault(settings, embedder=embedder)
    print(f"index: {summary.files_total} notes, {summary.chunks_total} chunks in {time.perf_counter() - started:.0f} s")

    rng = random.Random(5)
    notes = sorted((work / "vault").rglob("*.md"))
    questions = []
    for note in rng.sample(notes, args.questions):
        words = [w for w in note.read_text().split() if w.isalpha()]
        questions.append(" ".join(words[len(words) // 2: len(words) // 2 + 8]) or note.stem)

    with serve_smollm2(n_ctx=2048) as url:
        llm = make_backend("openai", url)
        searcher = Searcher(settings, embedder)
        answerer = Answerer(settings, searcher, llm)
        options = ChatOptions(temperature=0, max_tokens=8)
        answerer.plan([{"role": "user", "content": "warm up"}], SMOLLM2_ALIAS)
        plan_ms, direct_ms, rewrite_ms = [], [], []
        for q in questions:
            messages = [{"role": "user", "content": q}]
            t = time.perf_counter()
            plan = answerer.plan(messages, SMOLLM2_ALIAS)
            plan_ms.append((time.perf_counter() - t) * 1000)
            direct_ms.append(first_token_ms(llm.chat(SMOLLM2_ALIAS, plan.messages, options, 2048)))
            follow_up = messages + [{"role": "assistant", "content": "Here is what your notes say [1]."},
                                    {"role": "user", "content": "and what else?"}]
            t = time.perf_counter()
            answerer.plan(follow_up, SMOLLM2_ALIAS)
            rewrite_ms.append((time.perf_counter() - t) * 1000 - statistics.median(plan_ms))
        searcher.close()

    print(f"\n{len(questions)} questions, {summary.chunks_total}-chunk index, SmolLM2-135M (llama.cpp, 1 thread)\n")
    print("| step | p50 ms | p95 ms |\n|---|---|---|")
    for name, values in (("vaultrag before the first token: retrieval + prompt", plan_ms),
                         ("LLM alone: time to first token, same prompt", direct_ms),
                         ("follow-up rewrite (extra LLM call), on top of retrieval", rewrite_ms)):
        print(f"| {name} | {pct(values, .5):.0f} | {pct(values, .95):.0f} |")
    share = [p / (p + d) for p, d in zip(plan_ms, direct_ms)]
    print(f"| vaultrag's share of the wait for the first token | {pct(share, .5):.1%} | {pct(share, .95):.1%} |")


if __name__ == "__main__":
    main()
