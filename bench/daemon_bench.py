"""Daemon freshness and responsiveness on a generated vault, printed as tables.

    python bench/daemon_bench.py                 # a generated 5,000-note vault
    python bench/daemon_bench.py --notes 1000 --repeats 10
    python bench/daemon_bench.py --vault V --data-dir D   # reuse a vault and its finished index (e.g. index_bench's)

Measures, against a real `vaultrag serve` subprocess over loopback HTTP:
- /health, /api/status and /api/search latency while the initial index runs (goal: well under 100 ms; a search
  embeds its question beside the writer's batches), and how long that first index takes;
- how long a change takes to show in /api/search (create, edit, rename, delete; goal: p95 under 2 s);
- a restart with no changes: embeddings computed (goal: 0) and the reconcile's own time (goal: under 2 s).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
VAULTRAG = str(Path(sys.executable).parent / "vaultrag")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def start(vault: Path, data: Path, port: int, log: Path) -> subprocess.Popen:
    proc = subprocess.Popen([VAULTRAG, "serve", "--vault", str(vault), "--data-dir", str(data), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=open(log, "a"))
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            httpx.get(url + "/health", timeout=1)
            return proc
        except httpx.HTTPError:
            if proc.poll() is not None:
                sys.exit(f"daemon exited; see {log}")
            time.sleep(0.05)


def timed_get(client: httpx.Client, path: str) -> float:
    started = time.perf_counter()
    client.get(path).raise_for_status()
    return (time.perf_counter() - started) * 1000


def until(check, timeout: float = 60) -> float:
    started = time.perf_counter()
    while not check():
        if time.perf_counter() - started > timeout:
            return float("inf")
        time.sleep(0.02)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--vault", type=Path, help="an existing vault instead of a generated one")
    parser.add_argument("--data-dir", type=Path, help="its finished index, to skip waiting for a full index")
    parser.add_argument("--sample-seconds", type=float, default=90, help="how long to sample latency while indexing")
    args = parser.parse_args()
    from generate_vault import generate_vault

    work = Path(tempfile.mkdtemp(prefix="vaultrag-daemon-bench-"))
    vault, log = args.vault or work / "vault", work / "daemon.log"
    if not args.vault:
        generate_vault(vault, args.notes, seed=1)
    port = free_port()
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)

    # Responsiveness while a fresh initial index runs (sampled for a while, then that daemon is stopped).
    launched = time.perf_counter()
    proc = start(vault, work / "fresh", port, log)
    health, status_ms, search_ms, answered = [], [], [], 0
    while time.perf_counter() - launched < args.sample_seconds:
        health.append(timed_get(client, "/health"))
        status_ms.append(timed_get(client, "/api/status"))
        started = time.perf_counter()
        found = client.post("/api/search", json={"query": "how long should the dough proof?", "k": 5})
        search_ms.append((time.perf_counter() - started) * 1000)
        answered += found.status_code == 200 and bool(found.json()["results"])
        state = client.get("/api/status").json()
        if state["state"] == "ready" and not args.data_dir:
            break
        time.sleep(0.2)
    print(f"initial index after {time.perf_counter() - launched:.0f} s: state {state['state']}, "
          f"{state['files_indexed']} of {state['files_total']} notes, {state['chunks']} chunks\n")
    print(f"/api/search answered with results {answered} of {len(search_ms)} times\n")
    print("| endpoint during initial index | samples | p50 ms | p95 ms | max ms |\n|---|---|---|---|---|")
    for name, values in (("/health", health), ("/api/status", status_ms), ("/api/search", search_ms)):
        print(f"| {name} | {len(values)} | {percentile(values, .5):.1f} | {percentile(values, .95):.1f} | "
              f"{max(values):.1f} |")
    data = args.data_dir or work / "fresh"
    if args.data_dir:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        proc = start(vault, data, port, log)
    until(lambda: client.get("/api/status").json()["state"] == "ready", 3600)

    def search_paths(query: str) -> list[str]:
        return [r["path"] for r in client.post("/api/search", json={"query": query, "k": 5}).json()["results"]]

    results: dict[str, list[float]] = {"create": [], "edit": [], "rename": [], "delete": []}
    for i in range(args.repeats):
        phrase = f"The quokka sanctuary {i} opens its orchard gate at {7 + i % 5} o'clock"
        note = vault / f"Inbox/Bench note {i}.md"
        note.write_text(f"# Bench note {i}\n\n{phrase}.\n")
        results["create"].append(until(lambda: f"Inbox/Bench note {i}.md" in search_paths(phrase)))
        edited = f"The axolotl aquarium {i} needs its filter rinsed every {3 + i % 4} weeks"
        note.write_text(f"# Bench note {i}\n\n{edited}.\n")
        results["edit"].append(until(lambda: f"Inbox/Bench note {i}.md" in search_paths(edited)))
        moved = vault / f"Archive/Bench note {i}.md"
        moved.parent.mkdir(exist_ok=True)
        note.rename(moved)
        results["rename"].append(until(lambda: f"Archive/Bench note {i}.md" in search_paths(edited)))
        moved.unlink()
        results["delete"].append(until(lambda: f"Archive/Bench note {i}.md" not in search_paths(edited)))
        time.sleep(0.3)
    print(f"\n| change seen by /api/search ({args.notes}-note vault) | n | p50 s | p95 s | max s |\n|---|---|---|---|---|")
    for op, values in results.items():
        print(f"| {op} | {len(values)} | {percentile(values, .5):.2f} | {percentile(values, .95):.2f} | "
              f"{max(values):.2f} |")

    proc.send_signal(signal.SIGTERM)
    stop_started = time.perf_counter()
    code = proc.wait(30)
    stop_s = time.perf_counter() - stop_started
    launched = time.perf_counter()
    proc = start(vault, data, port, log)
    until(lambda: client.get("/api/status").json()["state"] == "ready", 300)
    ready_s = time.perf_counter() - launched
    state = client.get("/api/status").json()
    print("\n| restart with no changes | value |\n|---|---|")
    print(f"| SIGTERM to exit (exit code {code}) | {stop_s:.2f} s |")
    print(f"| process start to ready | {ready_s:.2f} s |")
    print(f"| reconcile (sync) itself | {state['last_sync_seconds']:.2f} s |")
    print(f"| embeddings computed | {state['embedded_since_start']} |")
    proc.send_signal(signal.SIGTERM)
    proc.wait(30)
    print(f"\nlogs: {log}")


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
