"""Load: concurrent clients asking questions while a note is edited every second; throughput, latency, errors, RSS.

    python bench/load.py                                  # 300 generated notes, 20 clients, 60 s per phase
    python bench/load.py --clients 20 --seconds 60 --phases chat
    python bench/load.py --vault V --data-dir D           # a vault and its finished index
    python bench/load.py --llm ollama-standin             # the LLM behind the tests' Ollama stand-in (backend ollama)

One real `vaultrag serve` subprocess answers with SmolLM2-135M (llama.cpp's server, one slot, one thread: the test
suite's LLM). Phases, one after another on the same daemon:
- baseline: one client searching, then one client chatting, nothing edited (what one request costs when idle);
- search: every client loops POST /api/search (embedding the query, Chroma: vaultrag alone, no LLM);
- chat: every client loops streaming /v1/chat/completions with max_tokens 16; each answer is timed to its sources
  chunk (vaultrag's queueing + retrieval), to its first token (+ the LLM's queue and prompt) and to [DONE];
- mix: half the clients chat, half search (does a search wait behind the chats?).
In the loaded phases a note is rewritten every second and, at the end, its last version must turn up in /api/search.
Errors are HTTP statuses other than 200, error chunks, streams without [DONE] and client exceptions. The daemon's RSS
(with any children), threads and open files are sampled every second.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from daemon_bench import VAULTRAG, free_port, percentile  # noqa: E402
from tests.llm_servers import SMOLLM2_ALIAS, OllamaStandIn, serve_smollm2  # noqa: E402

EDITED_NOTE = "Load bench/Edited note.md"  # created in the vault for the run, deleted after
CLIENT_TIMEOUT = httpx.Timeout(300, connect=10)
DRAIN_LIMIT_S = 300  # how long in-flight requests may take to finish after a phase's time is up
MB = 1024 * 1024
ADJECTIVES = ["amber", "brisk", "copper", "dusky", "frosty", "gentle", "hollow", "ivory", "jolly", "lanky"]
ANIMALS = ["otter", "heron", "lynx", "marmot", "pelican", "quokka", "stoat", "tapir", "walrus", "yak"]
PLACES = ["Tromso", "Valparaiso", "Kyoto", "Hobart", "Reykjavik", "Oaxaca", "Tbilisi", "Zanzibar"]
THINGS = ["lanterns", "kettles", "compasses", "teacups", "ledgers", "sextants", "umbrellas", "whistles"]


@dataclass
class Sample:
    """One request as a client saw it (seconds from sending it)."""

    kind: str  # "search" or "chat"
    seconds: float = 0.0
    error: str = ""
    to_sources: float | None = None  # chat: the sources chunk, i.e. retrieval done
    to_first_token: float | None = None  # chat: the first content delta
    longest_silence: float = 0.0  # chat: the longest wait for the next line of the stream
    ended: float = 0.0  # time.monotonic() when it finished


@dataclass
class Phase:
    name: str
    search_clients: int
    chat_clients: int
    seconds: float
    edits: bool
    samples: list[Sample] = field(default_factory=list)
    started: float = 0.0  # time.monotonic()
    wall_s: float = 0.0
    edits_made: int = 0
    final_edit_visible_s: float | None = None
    unfinished: int = 0


# ---- the LLM and the daemon ---------------------------------------------------------------------------------------

@contextmanager
def llm_server(kind: str, n_ctx: int) -> Iterator[dict]:
    """The LLM, as the daemon's VAULTRAG_LLM__* settings; stopped on leaving."""
    with serve_smollm2(n_ctx=n_ctx) as url:
        if kind == "llama":
            yield {"BACKEND": "openai", "BASE_URL": url, "MODEL": SMOLLM2_ALIAS}
        else:
            with OllamaStandIn(url) as stand_in:
                yield {"BACKEND": "ollama", "BASE_URL": stand_in.url, "MODEL": stand_in.model}


@contextmanager
def running_daemon(vault: Path, data: Path, log: Path, settings: dict) -> Iterator[tuple[subprocess.Popen, str]]:
    """`vaultrag serve` with `settings` (VAULTRAG_* variables), healthy; SIGTERM (then SIGKILL) on leaving."""
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", **settings}
    with open(log, "a") as stderr:
        proc = subprocess.Popen([VAULTRAG, "serve", "--vault", str(vault), "--data-dir", str(data),
                                 "--port", str(port)], stdout=subprocess.DEVNULL, stderr=stderr, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(proc, url, log)
        yield proc, url
    finally:
        stop_daemon(proc)


def wait_healthy(proc: subprocess.Popen, url: str, log: Path) -> None:
    while True:
        try:
            httpx.get(url + "/health", timeout=1)
            return
        except httpx.HTTPError:
            if proc.poll() is not None:
                sys.exit(f"the daemon exited with {proc.returncode}; see {log}")
            time.sleep(0.1)


def stop_daemon(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    started = time.monotonic()
    try:
        code = proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = proc.wait()
        print(f"daemon did not stop within 30 s of SIGTERM: killed (exit code {code})")
        return
    print(f"daemon stopped: exit code {code}, {time.monotonic() - started:.1f} s after SIGTERM")


def wait_ready(url: str, timeout: float = 3600) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = httpx.get(url + "/api/status", timeout=10).json()
        if state["state"] == "ready" and state["files_pending"] == 0:
            return state
        time.sleep(0.5)
    sys.exit(f"the daemon was not ready within {timeout:.0f} s")


# ---- clients ------------------------------------------------------------------------------------------------------

def search_once(http: httpx.Client, question: str) -> Sample:
    sample, started = Sample("search"), time.perf_counter()
    try:
        response = http.post("/api/search", json={"query": question, "k": 5})
        if response.status_code != 200 or "results" not in response.json():
            sample.error = f"search: HTTP {response.status_code}: {response.text[:200]}"
    except httpx.HTTPError as exc:
        sample.error = f"search: {type(exc).__name__}: {exc}"
    sample.seconds = time.perf_counter() - started
    return sample


def chat_once(http: httpx.Client, question: str, max_tokens: int) -> Sample:
    body = {"model": "vaultrag", "stream": True, "max_tokens": max_tokens, "temperature": 0,
            "messages": [{"role": "user", "content": question}]}
    sample, started = Sample("chat"), time.perf_counter()
    try:
        with http.stream("POST", "/v1/chat/completions", json=body) as response:
            if response.status_code != 200:
                response.read()
                sample.error = f"chat: HTTP {response.status_code}: {response.text[:200]}"
            elif not read_stream(response, sample, started) and not sample.error:
                sample.error = "chat: the stream ended without data: [DONE]"
    except (httpx.HTTPError, json.JSONDecodeError) as exc:
        sample.error = f"chat: {type(exc).__name__}: {exc}"
    sample.seconds = time.perf_counter() - started
    return sample


def read_stream(response: httpx.Response, sample: Sample, started: float) -> bool:
    """Time the stream's events into `sample`; True when it ended with [DONE]."""
    last = started
    for line in response.iter_lines():
        now = time.perf_counter()
        sample.longest_silence, last = max(sample.longest_silence, now - last), now
        if not line.startswith("data: "):
            continue  # the blank line after each event, and ": keep-alive" comments
        if line == "data: [DONE]":
            return True
        chunk = json.loads(line[6:])
        if "error" in chunk:
            sample.error = sample.error or f"chat: error chunk: {str(chunk['error'].get('message'))[:200]}"
        elif (chunk.get("event") or {}).get("type") == "source" and sample.to_sources is None:
            sample.to_sources = now - started
        elif any((c.get("delta") or {}).get("content") for c in chunk.get("choices") or []):
            sample.to_first_token = sample.to_first_token if sample.to_first_token is not None else now - started
    return False


def client(ask: Callable[[httpx.Client, str], Sample], url: str, questions: list[str], seed: int, deadline: float,
           stop: threading.Event, samples: list[Sample]) -> None:
    """Ask one question after another until the deadline; the one in flight then is finished."""
    rng = random.Random(seed)
    with httpx.Client(base_url=url, timeout=CLIENT_TIMEOUT) as http:
        while time.monotonic() < deadline and not stop.is_set():
            sample = ask(http, rng.choice(questions))
            sample.ended = time.monotonic()
            samples.append(sample)


# ---- the editor ---------------------------------------------------------------------------------------------------

class Editor(threading.Thread):
    """Rewrites one note every second: a real note's text, then a new sentence under "## Latest edit"."""

    def __init__(self, note: Path, base_text: str, seed: str):
        super().__init__(name="editor", daemon=True)
        self.note, self.base_text = note, base_text
        self.rng = random.Random(seed)
        self.stop = threading.Event()
        self.edits = 0
        self.last_phrase, self.last_written = "", 0.0

    def run(self) -> None:
        while not self.stop.wait(1.0):
            self.edit()

    def edit(self) -> None:
        self.edits += 1
        rng = self.rng
        phrase = (f"The {rng.choice(ADJECTIVES)} {rng.choice(ANIMALS)} from {rng.choice(PLACES)} guards "
                  f"{rng.randrange(2, 99)} {rng.choice(THINGS)} (edit {self.edits}).")
        self.note.write_text(f"# Edited note\n\n{self.base_text}\n\n## Latest edit\n\n{phrase}\n")
        self.last_phrase, self.last_written = phrase, time.monotonic()


def note_body(path: Path) -> str:
    """A note's text without its frontmatter."""
    text = path.read_text(errors="replace")
    if text.startswith("---\n") and "\n---\n" in text[4:]:
        text = text[4:].split("\n---\n", 1)[1]
    return text.strip()


def wait_searchable(url: str, phrase: str, written_at: float, timeout: float = 60) -> float | None:
    """Seconds from the write until /api/search returns the edited note's chunk holding `phrase`; None: never."""
    with httpx.Client(base_url=url, timeout=CLIENT_TIMEOUT) as http:
        while time.monotonic() - written_at < timeout:
            results = http.post("/api/search", json={"query": phrase, "k": 10}).json()["results"]
            if any(r["path"] == EDITED_NOTE and phrase in r["text"] for r in results):
                return time.monotonic() - written_at
            time.sleep(0.1)
    return None


# ---- memory -------------------------------------------------------------------------------------------------------

@dataclass
class Usage:
    at: float
    phase: str
    rss: int  # bytes, the daemon and its children
    threads: int
    open_files: int  # file descriptors, sockets included


class MemorySampler(threading.Thread):
    """The daemon's RSS (children included), threads and descriptors every `every` seconds, tagged with `phase`."""

    def __init__(self, pid: int, every: float = 1.0):
        super().__init__(name="memory-sampler", daemon=True)
        self.process = psutil.Process(pid)
        self.every = every
        self.phase = "warm-up"
        self.samples: list[Usage] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while True:
            self.sample()
            if self.stop.wait(self.every):
                return

    def sample(self) -> None:
        try:
            processes = [self.process, *self.process.children(recursive=True)]
            self.samples.append(Usage(time.monotonic(), self.phase, sum(p.memory_info().rss for p in processes),
                                      sum(p.num_threads() for p in processes),
                                      sum(p.num_fds() for p in processes)))
        except psutil.Error:
            pass  # the daemon is stopping


# ---- a phase ------------------------------------------------------------------------------------------------------

def run_phase(phase: Phase, url: str, questions: list[str], vault: Path, base_text: str, max_tokens: int,
              sampler: MemorySampler) -> None:
    sampler.phase = phase.name
    stop, samples = threading.Event(), phase.samples
    editor = Editor(vault / EDITED_NOTE, base_text, seed=phase.name) if phase.edits else None
    started = phase.started = time.monotonic()
    deadline = started + phase.seconds
    asks = ([search_once] * phase.search_clients +
            [lambda http, q: chat_once(http, q, max_tokens)] * phase.chat_clients)
    clients = [threading.Thread(target=client, args=(ask, url, questions, n, deadline, stop, samples), daemon=True)
               for n, ask in enumerate(asks)]
    try:
        for thread in clients:
            thread.start()
        if editor:
            editor.start()
            time.sleep(max(0.0, deadline - time.monotonic()))
            editor.stop.set()
            editor.join()
            phase.edits_made = editor.edits
            # checked while the chats in flight drain, so still under load
            phase.final_edit_visible_s = wait_searchable(url, editor.last_phrase, editor.last_written)
        for thread in clients:
            thread.join(max(0.0, deadline + DRAIN_LIMIT_S - time.monotonic()))
        phase.unfinished = sum(thread.is_alive() for thread in clients)
        phase.wall_s = time.monotonic() - started
    finally:
        stop.set()
        if editor:
            editor.stop.set()


# ---- the report ---------------------------------------------------------------------------------------------------

def pct(values: list[float], q: float, scale: float = 1.0, digits: int = 2) -> str:
    return f"{percentile(values, q) * scale:.{digits}f}" if values else "-"


def per_second(phase: Phase, done: list[Sample], ok: int) -> float:
    """Successful requests per second from the phase's start until the last of `done` finished."""
    return ok / max((max(s.ended for s in done) - phase.started) if done else phase.wall_s, 1e-9)


def search_row(phase: Phase) -> str:
    done = [s for s in phase.samples if s.kind == "search"]
    ok = [s.seconds for s in done if not s.error]
    return (f"| {phase.name} | {phase.search_clients} | {len(done)} | {per_second(phase, done, len(ok)):.1f} | "
            f"{pct(ok, .5, 1000, 0)} | {pct(ok, .95, 1000, 0)} | {pct(ok, 1, 1000, 0)} | "
            f"{len(done) - len(ok)} |")


def chat_row(phase: Phase) -> str:
    done = [s for s in phase.samples if s.kind == "chat"]
    ok = [s for s in done if not s.error]
    answered = [s for s in ok if s.to_sources is not None]  # the LLM was asked (else: "nothing in your notes")
    to_sources = [s.to_sources for s in answered]
    first = [s.to_first_token for s in answered if s.to_first_token is not None]
    total = [s.seconds for s in answered]
    silence = [s.longest_silence for s in ok]
    return (f"| {phase.name} | {phase.chat_clients} | {len(done)} ({len(ok) - len(answered)}) | "
            f"{per_second(phase, done, len(ok)):.2f} | {pct(to_sources, .5)} / {pct(to_sources, .95)} | "
            f"{pct(first, .5)} / {pct(first, .95)} | {pct(total, .5)} / {pct(total, .95)} | "
            f"{pct(silence, 1, digits=1)} | {len(done) - len(ok)} |")


def memory_row(phase: Phase, usage: list[Usage]) -> str:
    mine = [u for u in usage if u.phase == phase.name]
    if not mine:
        return f"| {phase.name} |" + " - |" * 9
    half = [u for u in mine if u.at >= (mine[0].at + mine[-1].at) / 2]
    visible = ("-" if not phase.edits else "never" if phase.final_edit_visible_s is None
               else f"{phase.final_edit_visible_s:.1f}")
    edits = phase.edits_made if phase.edits else "-"
    return (f"| {phase.name} | {edits} | {visible} | {mine[0].rss / MB:.0f} | {mine[-1].rss / MB:.0f} | "
            f"{max(u.rss for u in mine) / MB:.0f} | {(mine[-1].rss - mine[0].rss) / MB:+.0f} | "
            f"{(half[-1].rss - half[0].rss) / MB:+.0f} | {mine[0].threads}→{mine[-1].threads} | "
            f"{mine[0].open_files}→{mine[-1].open_files} |")


def error_kind(error: str) -> str:
    """"chat: HTTP 500: ..." -> "chat: HTTP 500"."""
    return ":".join(error.split(":", 2)[:2])


def report(phases: list[Phase], usage: list[Usage], log: Path) -> None:
    searching = [p for p in phases if p.search_clients]
    chatting = [p for p in phases if p.chat_clients]
    if searching:
        print("\n| phase: /api/search | clients | requests | req/s | p50 ms | p95 ms | max ms | errors |")
        print("|---|---|---|---|---|---|---|---|")
        print("\n".join(search_row(p) for p in searching))
    if chatting:
        print("\n| phase: streamed chat | clients | answers (no excerpt) | answers/s | to sources p50 / p95 s | "
              "to first token p50 / p95 s | total p50 / p95 s | longest silence s | errors |")
        print("|---|---|---|---|---|---|---|---|---|")
        print("\n".join(chat_row(p) for p in chatting))
    print("\n| phase: daemon | edits | last edit searchable after s | RSS start MB | end MB | max MB | growth MB | "
          "2nd-half growth MB | threads | open fds |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(memory_row(p, usage) for p in phases))
    loaded = [u for u in usage if u.phase in {p.name for p in phases if p.edits}]
    if loaded:
        print(f"\nRSS over the loaded phases (MB, every 10 s): "
              f"{' '.join(f'{u.rss / MB:.0f}' for u in loaded[::10])} {loaded[-1].rss / MB:.0f}")
    failed = [s.error for p in phases for s in p.samples if s.error]
    print(f"errors: {len(failed)} of {sum(len(p.samples) for p in phases)} requests")
    first: dict[str, str] = {}
    for error in failed:
        first.setdefault(error_kind(error), error)
    for kind, count in Counter(error_kind(e) for e in failed).most_common():
        print(f"error ×{count}: {first[kind]}")
    unfinished = sum(p.unfinished for p in phases)
    if unfinished:
        print(f"requests still unfinished {DRAIN_LIMIT_S} s after their phase ended: {unfinished}")
    lines = log.read_text(errors="replace").splitlines()
    print(f"daemon log: {sum(' ERROR ' in line for line in lines)} ERROR, "
          f"{sum(' WARNING ' in line for line in lines)} WARNING lines ({log})")


# ---- main ---------------------------------------------------------------------------------------------------------

def make_questions(vault: Path, count: int, seed: int = 5) -> list[str]:
    """Eight words from the middle of sampled notes: each names something one note says (candidates: see
    `answerable`)."""
    rng = random.Random(seed)
    notes = sorted(p for p in vault.rglob("*.md") if not p.relative_to(vault).parts[0].startswith("."))
    questions = []
    for note in rng.sample(notes, min(count, len(notes))):
        words = [w for w in note.read_text(errors="replace").split() if w.isalpha()]
        questions.append(" ".join(words[len(words) // 2: len(words) // 2 + 8]) or note.stem)
    return questions


def answerable(http: httpx.Client, questions: list[str], min_score: float) -> list[str]:
    """The questions whose best excerpt clears answer.min_score, so that every chat goes to the LLM (the others
    get the fixed "nothing in your notes" reply at once, which would flatter the chat numbers)."""
    def best_score(question: str) -> float:
        results = http.post("/api/search", json={"query": question, "k": 1}).json()["results"]
        return results[0]["score"] if results else 0.0
    return [q for q in questions if best_score(q) >= min_score + 0.02]


def longest_note(vault: Path, under_bytes: int = 6000) -> Path:
    notes = [p for p in vault.rglob("*.md") if not p.relative_to(vault).parts[0].startswith(".")]
    return max((p for p in notes if p.stat().st_size < under_bytes), key=lambda p: p.stat().st_size)


def plan_phases(args: argparse.Namespace) -> list[Phase]:
    phases = []
    if args.baseline_seconds:
        phases += [Phase("1 client: search", 1, 0, args.baseline_seconds, edits=False),
                   Phase("1 client: chat", 0, 1, 2 * args.baseline_seconds, edits=False)]
    kinds = {"search": (args.clients, 0), "chat": (0, args.clients),
             "mix": (args.clients - args.clients // 2, args.clients // 2)}
    for name in args.phases.split(","):
        if name not in kinds:
            sys.exit(f"--phases: {name!r} is not one of {', '.join(kinds)}")
        phases.append(Phase(name, *kinds[name], args.seconds, edits=True))
    return phases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vault", type=Path, help="an existing vault instead of a generated one")
    parser.add_argument("--data-dir", type=Path, help="its index (reused if finished, else built first)")
    parser.add_argument("--notes", type=int, default=300, help="notes in the generated vault")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60, help="length of each loaded phase")
    parser.add_argument("--phases", default="search,chat,mix", help="comma-separated: search, chat, mix")
    parser.add_argument("--baseline-seconds", type=float, default=10, help="one client alone first; 0: skip")
    parser.add_argument("--llm", choices=["llama", "ollama-standin"], default="llama")
    parser.add_argument("--max-tokens", type=int, default=16, help="answer length asked for in each chat")
    parser.add_argument("--excerpts", type=int, default=2, help="answer.excerpts: excerpts in each prompt")
    parser.add_argument("--min-score", type=float, default=0.3, help="answer.min_score (the daemon's default)")
    args = parser.parse_args()
    phases = plan_phases(args)
    from generate_vault import generate_vault

    work = Path(tempfile.mkdtemp(prefix="vaultrag-load-bench-"))
    vault, data, log = args.vault or work / "vault", args.data_dir or work / "data", work / "daemon.log"
    if not args.vault:
        generate_vault(vault, args.notes, seed=3)
    candidates = make_questions(vault, 80)
    base_text = note_body(longest_note(vault))
    settings = {"VAULTRAG_LLM__CONTEXT_TOKENS": "2048", "VAULTRAG_ANSWER__EXCERPTS": str(args.excerpts),
                "VAULTRAG_ANSWER__MIN_SCORE": str(args.min_score)}
    edited = vault / EDITED_NOTE
    edited.parent.mkdir(exist_ok=True)
    edited.write_text(f"# Edited note\n\n{base_text}\n")
    sampler = None
    try:
        with llm_server(args.llm, 2048) as llm, \
                running_daemon(vault, data, log, {**settings, **{f"VAULTRAG_LLM__{k}": v for k, v in llm.items()}}) \
                as (proc, url):
            started = time.monotonic()
            state = wait_ready(url)
            print(f"{state['files_indexed']} notes, {state['chunks']} chunks, ready after "
                  f"{time.monotonic() - started:.0f} s; LLM: SmolLM2-135M ({args.llm}), max_tokens "
                  f"{args.max_tokens}, {args.excerpts} excerpts; {args.clients} clients, {args.seconds:.0f} s a phase")
            with httpx.Client(base_url=url, timeout=CLIENT_TIMEOUT) as http:  # also loads the models
                questions = answerable(http, candidates, args.min_score)
                if not questions:
                    sys.exit("no candidate question finds an excerpt above answer.min_score: try --min-score")
                chat_once(http, questions[0], args.max_tokens)
            print(f"{len(questions)} of {len(candidates)} candidate questions have an excerpt scoring "
                  f"{args.min_score:g} or more: those are asked")
            sampler = MemorySampler(proc.pid)
            sampler.start()
            for phase in phases:
                run_phase(phase, url, questions, vault, base_text, args.max_tokens, sampler)
                print(f"phase {phase.name}: {len(phase.samples)} requests in {phase.wall_s:.0f} s", flush=True)
            sampler.stop.set()
            sampler.join()
    finally:
        if sampler:
            sampler.stop.set()
        edited.unlink(missing_ok=True)
        if not any(edited.parent.iterdir()):
            edited.parent.rmdir()
    report(phases, sampler.samples, log)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted: the daemon and the LLM server are stopped")
