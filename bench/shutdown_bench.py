"""How long a real daemon takes to exit after SIGTERM while clients stream answers and a sync runs, and how each
client's stream ended (the goal: exit code 0 within 10 s, every stream ended by an error chunk or its finish, then
`[DONE]`; none dropped).

    python bench/shutdown_bench.py [--rounds 3] [--clients 10] [--follow-ups 3] [--notes 250] [--llm ollama-standin]

Each round starts `vaultrag serve` on a fresh two-note vault, answering with SmolLM2-135M (llama.cpp's server, one
slot, behind the tests' Ollama stand-in unless `--llm llama`), waits for it to be ready, adds `--notes` new notes (a
sync that runs on), starts the clients (the first `--follow-ups` of them send a conversation, so their plan asks the
LLM to rewrite the question first), waits until every stream has begun and one has words, and sends SIGTERM.
tests/e2e/test_shutdown.py checks the same without timing it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from daemon_bench import VAULTRAG, free_port  # noqa: E402
from load import llm_server, wait_healthy, wait_ready  # noqa: E402

NOTES = {
    "Home/Network.md": "# Home network\n\n## Router\nThe wifi router lives at 192.168.50.1; the admin password is on "
                       "the sticker under it.\n",
    "Recipes/Pancakes.md": "# Pancakes\nMix 200 g flour, 2 eggs and 300 ml milk, rest the batter for 30 minutes.\n",
}
QUESTIONS = ("Where does the wifi router live?", "How long does the pancake batter rest?")


def stream(url: str, n: int, follow_up: bool, lines: list[str]) -> None:
    messages = [{"role": "user", "content": QUESTIONS[n % len(QUESTIONS)]}]
    if follow_up:
        messages = [{"role": "user", "content": "Tell me about my notes."},
                    {"role": "assistant", "content": "They cover a home network and some recipes."}, *messages]
    try:
        with httpx.stream("POST", url + "/v1/chat/completions", timeout=300, json={
                "model": "vaultrag", "stream": True, "max_tokens": 32, "messages": messages}) as response:
            for line in response.iter_lines():
                lines.append(line)
    except httpx.HTTPError:
        lines.append("dropped")


def ending(lines: list[str]) -> str:
    """How a stream ended: "stopped" (shutting_down error, [DONE]), "finished" (finish chunk, [DONE]), "dropped"."""
    data = [line.removeprefix("data: ") for line in lines if line.startswith("data: ")]
    if not lines or lines[-1] == "dropped" or len(data) < 2 or data[-1] != "[DONE]":
        return "dropped"
    last = json.loads(data[-2])
    if "error" in last:
        return "stopped" if last["error"].get("code") == "shutting_down" else f"error {last['error'].get('code')}"
    return "finished"


def has_words(lines: list[str]) -> bool:
    return any(line.startswith("data: {") and (json.loads(line[6:]).get("choices") or [{}])[0].get("delta", {}).get(
        "content") for line in list(lines))


def one_round(args: argparse.Namespace, llm: dict, work: Path) -> dict:
    vault, data, log = work / "vault", work / "data", work / "daemon.log"
    for rel, text in NOTES.items():
        (vault / rel).parent.mkdir(parents=True, exist_ok=True)
        (vault / rel).write_text(text)
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", **{f"VAULTRAG_LLM__{k}": v for k, v in llm.items()},
           "VAULTRAG_LLM__CONTEXT_TOKENS": "2048", "VAULTRAG_ANSWER__EXCERPTS": "2"}
    with open(log, "w") as stderr:
        proc = subprocess.Popen([VAULTRAG, "serve", "--vault", str(vault), "--data-dir", str(data), "--port", str(port)],
                                stdout=subprocess.DEVNULL, stderr=stderr, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(proc, url, log)
        wait_ready(url, 600)
        (vault / "Load").mkdir()
        for i in range(args.notes):
            (vault / "Load" / f"Note {i}.md").write_text(f"# Note {i}\n\n" + f"Item {i} is about many things. " * 30)
        streams: list[list[str]] = [[] for _ in range(args.clients)]
        clients = [threading.Thread(target=stream, args=(url, n, n < args.follow_ups, streams[n]), daemon=True)
                   for n in range(args.clients)]
        for client in clients:
            client.start()
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not (all(any(x.startswith("data: {") for x in s) for s in streams)
                                                   and any(has_words(s) for s in streams)):
            time.sleep(0.1)
        syncing = httpx.get(url + "/api/status", timeout=10).json()["state"] == "indexing"
        with_words = sum(has_words(s) for s in streams)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = f"killed after 60 s ({proc.wait()})"
        seconds = time.monotonic() - started
        for client in clients:
            client.join(30)
        endings = [ending(s) for s in streams]
        return {"syncing": syncing, "with_words": with_words, "code": code, "seconds": seconds,
                "stopped": endings.count("stopped"), "finished": endings.count("finished"),
                "other": len(endings) - endings.count("stopped") - endings.count("finished")}
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--follow-ups", type=int, default=3)
    parser.add_argument("--notes", type=int, default=250)
    parser.add_argument("--llm", choices=("ollama-standin", "llama"), default="ollama-standin")
    args = parser.parse_args()
    rows = []
    with llm_server("llama" if args.llm == "llama" else "ollama", 2048) as llm:
        for n in range(args.rounds):
            with tempfile.TemporaryDirectory(prefix="vaultrag-shutdown-") as tmp:
                rows.append(one_round(args, llm, Path(tmp)))
            print(f"round {n + 1}: {rows[-1]}", file=sys.stderr)
    print(f"| round | sync running | streams with words | exit code | s from SIGTERM to exit | ended: shutting_down "
          f"+ [DONE] | ended: finish + [DONE] | dropped or other |")
    print("|---|---|---|---|---|---|---|---|")
    for n, r in enumerate(rows, 1):
        print(f"| {n} | {'yes' if r['syncing'] else 'no'} | {r['with_words']}/{args.clients} | {r['code']} | "
              f"{r['seconds']:.1f} | {r['stopped']} | {r['finished']} | {r['other']} |")


if __name__ == "__main__":
    main()
