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


@pytest.fixture(scope="session")
def onnx_exported():
    """The bundled model's ONNX file, exported once per session into the isolated data dir: on a CPU, `auto` runs
    it in ONNX Runtime, and a daemon's first sync would otherwise spend its first minute exporting it."""
    from vaultrag.ingest.embedder import BUNDLED_MODEL, locate_model
    from vaultrag.ingest.onnx_export import onnx_file

    return onnx_file(locate_model(BUNDLED_MODEL), "fp32")


@pytest.fixture
def start_daemon(tmp_path, onnx_exported):
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


def run_cli(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """`vaultrag ARGS...` in a subprocess, as a user runs it: (returncode, stdout, stderr) as text."""
    return subprocess.run([VAULTRAG, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


class SmallDisk:
    """A tmpfs of a few megabytes mounted at `path`: a disk that can fill up, grow, or turn read-only."""

    def __init__(self, path: Path, size: str):
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        try:
            done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                                  capture_output=True, text=True)
            why = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[0]
        except OSError as exc:
            done, why = None, str(exc)
        if done is None or done.returncode != 0:
            pytest.skip(f"cannot mount a small tmpfs for the data dir (needs Linux and root or CAP_SYS_ADMIN): {why}")

    def remount(self, options: str) -> None:
        """e.g. "size=64m", "ro", "rw"; a file system with files open for writing cannot turn read-only."""
        subprocess.run(["mount", "-o", f"remount,{options}", str(self.path)], check=True, capture_output=True)

    def fill(self, leave: int = 0) -> Path:
        """Take all but about `leave` free bytes with a file (returned: delete it to give the space back)."""
        filler = self.path / "filler"
        with open(filler, "ab", buffering=0) as f:
            for block in (1 << 20, 1 << 16, 1 << 12):
                try:
                    while self.free() - block >= leave:
                        f.write(b"\0" * block)
                except OSError:
                    pass
        return filler

    def free(self) -> int:
        stat = os.statvfs(self.path)
        return stat.f_bavail * stat.f_frsize

    def unmount(self) -> None:
        subprocess.run(["umount", "-l", str(self.path)], capture_output=True)


@pytest.fixture
def small_disk():
    """small_disk(path, size="16m") -> SmallDisk mounted there (skips where mounting is not allowed)."""
    disks: list[SmallDisk] = []

    def make(path: Path, size: str = "16m") -> SmallDisk:
        disks.append(SmallDisk(path, size))
        return disks[-1]

    yield make
    for disk in disks:
        disk.unmount()


class ChromaServer:
    """`chroma run` on a fixed path and port, which a test can kill and start again."""

    def __init__(self, path: Path):
        self.path = path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "ChromaServer":
        chroma = str(Path(sys.executable).parent / "chroma")
        self.proc = subprocess.Popen([chroma, "run", "--path", str(self.path), "--host", "127.0.0.1",
                                      "--port", str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def up():
            if self.proc.poll() is not None:
                pytest.fail(f"chroma run exited with {self.proc.returncode}")
            try:
                return httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False
        wait_for(up, 60, every=0.2, what="chroma run to answer")
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def chroma_run(tmp_path):
    """A started ChromaServer (`.url`, `.kill()`, `.start()`), killed at teardown."""
    server = ChromaServer(tmp_path / "chroma-server").start()
    yield server
    server.kill()
