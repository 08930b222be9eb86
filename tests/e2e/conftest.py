"""A real daemon in a subprocess: `vaultrag serve` on a temporary vault, talked to over loopback HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

VAULTRAG = str(Path(sys.executable).parent / "vaultrag")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, timeout: float = 30.0, every: float = 0.1, what: str = "condition"):
    """Poll `condition()` until it returns something truthy; fail the test with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


@dataclass
class Daemon:
    proc: subprocess.Popen
    url: str
    log_path: Path

    def get(self, path: str, **kw) -> httpx.Response:
        return httpx.get(self.url + path, timeout=30, **kw)

    def post(self, path: str, **kw) -> httpx.Response:
        return httpx.post(self.url + path, timeout=60, **kw)

    def status(self) -> dict:
        return self.get("/api/status").json()

    def search(self, query: str, k: int = 5) -> list[dict]:
        return self.post("/api/search", json={"query": query, "k": k}).json()["results"]

    def wait_ready(self, timeout: float = 120) -> dict:
        def ready():
            state = self.status()
            return state if state["state"] == "ready" and state["files_pending"] == 0 else None
        return wait_for(ready, timeout, what="the daemon to be ready")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout)


@pytest.fixture
def start_daemon(tmp_path):
    """start_daemon(vault, data_dir=None, port=None, extra_args=(), wait=True) -> Daemon (stopped at teardown)."""
    started: list[Daemon] = []

    def start(vault: Path, data_dir: Path | None = None, port: int | None = None, extra_args=(),
              wait: bool = True, env: dict | None = None) -> Daemon:
        port = port or free_port()
        data_dir = data_dir or tmp_path / "data"
        log_path = tmp_path / f"daemon-{len(started)}.log"
        proc = subprocess.Popen(
            [VAULTRAG, "serve", "--vault", str(vault), "--data-dir", str(data_dir), "--port", str(port), *extra_args],
            stdout=subprocess.DEVNULL, stderr=open(log_path, "w"),
            env={**os.environ, "VAULTRAG_WATCH__POLL_SECONDS": "0.5", **(env or {})})
        daemon = Daemon(proc, f"http://127.0.0.1:{port}", log_path)
        started.append(daemon)
        if wait:
            def healthy():
                if proc.poll() is not None:
                    pytest.fail(f"daemon exited with {proc.returncode}:\n{daemon.log()}")
                try:
                    return daemon.get("/health").status_code == 200
                except httpx.HTTPError:
                    return False
            wait_for(healthy, 60, what="/health")
        return daemon

    yield start
    for daemon in started:
        if daemon.proc.poll() is None:
            daemon.proc.kill()
            daemon.proc.wait(10)
