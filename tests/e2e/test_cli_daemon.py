"""One process owns the index: while a daemon serves the vault, `vaultrag search` and `status` ask it over HTTP (with
the configured key, IPv6 bracketed) and print what they print without it; they never open the store themselves.
(`vaultrag ask` through the daemon: test_chat_api.py, which has an LLM.)"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import free_port, run_cli, wait_for

pytestmark = pytest.mark.slow
KEY = "cli-key-5e61"
GUARD = Path(__file__).resolve().parents[1] / "netguard"
NOTES = {"Garden/Tomatoes.md": "# Tomatoes\nWater the tomatoes deeply twice a week.\n",
         "Car.md": "The car needs winter tyres in November.\n"}


def traced(record: Path) -> dict:
    """The CLI's environment with the network guard recording every connection it makes (tests/netguard)."""
    return {"PYTHONPATH": os.pathsep.join(filter(None, [str(GUARD), os.environ.get("PYTHONPATH")])),
            "NETGUARD_LOG": str(record)}


def connections(record: Path) -> set[str]:
    lines = record.read_text().splitlines() if record.exists() else []
    return {r["target"] for r in map(json.loads, lines) if r["event"] == "socket.connect"}


def test_search_and_status_ask_the_running_daemon_with_its_key(write_vault, start_daemon, tmp_path):
    vault = write_vault(NOTES)
    data = tmp_path / "data"
    daemon = start_daemon(vault, data_dir=data, env={"VAULTRAG_API_KEY": KEY})  # the README's short name
    auth = {"Authorization": f"Bearer {KEY}"}
    assert daemon.get("/api/status").status_code == 401
    wait_for(lambda: daemon.get("/api/status", headers=auth).json()["state"] == "ready", 120, what="ready")
    cli = ["--vault", str(vault), "--data-dir", str(data)]
    env = {"VAULTRAG_API_KEY": KEY}

    status = run_cli("status", "--json", *cli, env=env)
    assert status.returncode == 0, status.stderr
    live = json.loads(status.stdout)
    assert live["state"] == "ready" and live["watch_mode"] in ("native", "polling")  # the daemon's, not the disk's

    (vault / "Basil.md").write_text("# Basil\nPinch out the basil flowers so the leaves keep coming.\n")
    record = tmp_path / "cli-network.jsonl"

    def found() -> dict | None:
        searched = run_cli("search", "pinch out basil flowers", "-k", "1", "--json", *cli, env={**env, **traced(record)})
        assert searched.returncode == 0, searched.stderr
        results = json.loads(searched.stdout)["results"]
        return results[0] if results and results[0]["path"] == "Basil.md" else None
    basil = wait_for(found, 60, every=0.2, what="`vaultrag search` to find a note saved a moment ago")
    assert daemon.url.removeprefix("http://") in connections(record)  # asked the daemon over loopback HTTP
    same = daemon.post("/api/search", json={"query": "pinch out basil flowers", "k": 1}, headers=auth).json()
    assert same["results"][0] == basil

    text = run_cli("search", "pinch out basil flowers", "-k", "1", *cli, env=env)
    assert text.returncode == 0 and text.stdout.startswith("1. Basil  Basil.md  score")
    assert "obsidian://open?vault=vault&file=Basil" in text.stdout

    for command in (["status"], ["search", "basil"]):  # a wrong key is an error, never a fallback to the store
        wrong = run_cli(*command, *cli, env={"VAULTRAG_API_KEY": "wrong"})
        assert wrong.returncode == 1 and "refused the API key" in wrong.stderr, (command, wrong.stderr)
        assert wrong.stderr.count("\n") == 1 and "Traceback" not in wrong.stderr

    assert daemon.stop() == 0
    offline = json.loads(run_cli("status", "--json", *cli).stdout)
    assert offline["state"] == "stopped" and offline["files_indexed"] == 3


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not ipv6_loopback(), reason="this machine has no IPv6 loopback (::1)")
def test_a_daemon_on_ipv6_loopback_is_found(write_vault, start_daemon, tmp_path):
    vault = write_vault(NOTES)
    port = free_port()
    daemon = start_daemon(vault, port=port, extra_args=["--host", "::1"], wait=False)

    def ready():
        assert daemon.proc.poll() is None, daemon.log()
        try:
            return httpx.get(f"http://[::1]:{port}/api/status", timeout=5).json()["state"] == "ready"
        except httpx.HTTPError:
            return False
    wait_for(ready, 120, what="the daemon on [::1]")
    status = run_cli("status", "--json", "--vault", str(vault), "--data-dir", str(tmp_path / "data"))
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["state"] == "ready"
    found = run_cli("search", "watering tomatoes", "--json", "--vault", str(vault), "--data-dir", str(tmp_path / "data"))
    assert json.loads(found.stdout)["results"][0]["path"] == "Garden/Tomatoes.md"
