"""Tool-call latency of a real daemon, as an agent sees it, printed as a table.

    python bench/tools_bench.py                    # a generated 5,000-note vault
    python bench/tools_bench.py --notes 1000 --calls 100
    python bench/tools_bench.py --vault V --data-dir D   # reuse a vault and its finished index

Starts `vaultrag serve`, waits for the initial index, then times `search_notes` and `read_note` calls (after a few
warm-up calls) through MCP over Streamable HTTP (the official SDK's client, one session) and through the OpenAPI
tool server (`POST /tools/<name>`, one keep-alive connection): p50 and p95 in milliseconds.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import anyio
import httpx
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

sys.path.insert(0, str(Path(__file__).resolve().parent))
from daemon_bench import free_port, percentile, start  # noqa: E402
import generate_vault  # noqa: E402

WARMUP = 5


def calls(vault: Path, n: int, seed: int) -> list[tuple[str, dict]]:
    """`n` search_notes calls with words of the notes' titles, and `n` read_note calls on random notes."""
    rng = random.Random(seed)
    notes = sorted(p.relative_to(vault).as_posix() for p in vault.rglob("*.md") if ".obsidian" not in p.parts)
    words = [w for p in notes for w in Path(p).stem.replace("-", " ").split() if len(w) > 3]
    searches = [("search_notes", {"query": " ".join(rng.sample(words, 3)), "k": 8}) for _ in range(n + WARMUP)]
    reads = [("read_note", {"path": rng.choice(notes)}) for _ in range(n + WARMUP)]
    return searches + reads


async def over_mcp(url: str, todo: list[tuple[str, dict]]) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {}
    http = httpx2.AsyncClient(timeout=httpx2.Timeout(60, read=300))
    async with Client(streamable_http_client(url + "/mcp", http_client=http), mode="legacy") as client:
        for n, (name, arguments) in enumerate(todo):
            started = time.perf_counter()
            result = await client.call_tool(name, arguments)
            elapsed = (time.perf_counter() - started) * 1000
            if result.is_error and name == "search_notes":
                sys.exit(f"{name} failed: {result.content[0].text}")
            if n % (len(todo) // 2) >= WARMUP:
                timings.setdefault(name, []).append(elapsed)
    return timings


def over_openapi(url: str, todo: list[tuple[str, dict]]) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {}
    with httpx.Client(base_url=url, timeout=300) as client:
        for n, (name, arguments) in enumerate(todo):
            started = time.perf_counter()
            client.post(f"/tools/{name}", json=arguments)
            elapsed = (time.perf_counter() - started) * 1000
            if n % (len(todo) // 2) >= WARMUP:
                timings.setdefault(name, []).append(elapsed)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=5000, help="notes in the generated vault (default 5000)")
    parser.add_argument("--calls", type=int, default=200, help="timed calls per tool and transport (default 200)")
    parser.add_argument("--vault", type=Path, help="an existing vault instead of a generated one")
    parser.add_argument("--data-dir", type=Path, help="its data dir (reused: an index there is not rebuilt)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tools-bench-"))
    vault = args.vault or work / "vault"
    if args.vault is None:
        generate_vault.main([str(vault), "--notes", str(args.notes), "--seed", str(args.seed)])
    data = args.data_dir or work / "data"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    proc = start(vault, data, port, work / "daemon.log")
    try:
        while True:
            state = httpx.get(url + "/api/status", timeout=10).json()
            if state["state"] == "ready" and state["files_pending"] == 0:
                break
            time.sleep(1)
        print(f"vault {vault}: {state['files_indexed']} notes, {state['chunks']} chunks, ready after "
              f"{time.monotonic() - started:.0f} s")
        todo = calls(vault, args.calls, args.seed)
        results = {"MCP (Streamable HTTP)": anyio.run(over_mcp, url, todo),
                   "OpenAPI (POST /tools/)": over_openapi(url, todo)}
    finally:
        proc.terminate()
        proc.wait(30)
    print("\n| transport | tool | calls | p50 ms | p95 ms |\n|---|---|---|---|---|")
    for transport, timings in results.items():
        for name, values in timings.items():
            print(f"| {transport} | {name} | {len(values)} | {percentile(values, 0.5):.1f} | "
                  f"{percentile(values, 0.95):.1f} |")


if __name__ == "__main__":
    main()
