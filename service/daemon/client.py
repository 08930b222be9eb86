"""The CLI's way to a running daemon: found through the writer lock, asked over its HTTP API with the configured key.

One process owns the index: while a daemon holds it, `vaultrag search`, `ask` and `status` ask the daemon and never
open the store themselves (ChromaDB's embedded store is not safe to share between processes).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Iterator

import httpx

from vaultrag.config.errors import VaultragError
from vaultrag.config.hosts import http_url
from vaultrag.config.settings import Settings
from vaultrag.ingest.writer_lock import read_lock_holder

TIMEOUT = httpx.Timeout(30.0, read=300.0)  # an answer may wait minutes for a busy LLM


class DaemonError(VaultragError):
    """The running daemon refused or failed a request; the message is the daemon's own."""


@dataclass(frozen=True)
class Daemon:
    url: str
    pid: int | None
    api_key: str

    def status(self) -> dict:
        return self._json("GET", "/api/status")

    def search(self, query: str, k: int, mode: str | None) -> list[dict]:
        return self._json("POST", "/api/search", json={"query": query, "k": k, "mode": mode})["results"]

    def answer(self, question: str) -> Iterator[dict]:
        """The streamed answer's events, as /v1/chat/completions sends them (chunks, source events)."""
        body = {"model": "vaultrag", "stream": True, "messages": [{"role": "user", "content": question}]}
        try:
            with httpx.stream("POST", self.url + "/v1/chat/completions", json=body, headers=self._headers(),
                              timeout=TIMEOUT) as response:
                if response.status_code != 200:
                    response.read()
                    raise DaemonError(self._refusal(response))
                for line in response.iter_lines():
                    if line.startswith("data: ") and line != "data: [DONE]":
                        event = json.loads(line[6:])
                        if "error" in event:
                            raise DaemonError(f"the daemon at {self.url}: {event['error'].get('message')}")
                        yield event
        except httpx.HTTPError as exc:
            raise DaemonError(f"the daemon at {self.url} stopped answering: {exc}") from None

    def _json(self, method: str, path: str, **kw) -> dict:
        try:
            response = httpx.request(method, self.url + path, headers=self._headers(), timeout=TIMEOUT, **kw)
        except httpx.HTTPError as exc:
            raise DaemonError(f"the daemon at {self.url} stopped answering: {exc}") from None
        if response.status_code != 200:
            raise DaemonError(self._refusal(response))
        return response.json()

    def _headers(self) -> dict:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def _refusal(self, response: httpx.Response) -> str:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text[:200]
        if response.status_code == 401:
            return (f"the daemon at {self.url} refused the API key: set server.api_key (or VAULTRAG_API_KEY) to "
                    "the daemon's key")
        return f"the daemon at {self.url} answered {response.status_code}: {message}"


def running_daemon(settings: Settings) -> Daemon | None:
    """The daemon that holds this vault's index, or None when none does (then the caller may open the store).

    A lock file left by a daemon that is gone names a pid that no longer runs: no daemon. A daemon whose process
    runs but does not answer (still starting, or stuck) is an error: the index is not this process's to open."""
    holder = read_lock_holder(settings.data_dir / "writer.lock")
    if not holder.get("port"):
        return None  # nobody holds it, or `vaultrag index` does (no HTTP API to ask)
    daemon = Daemon(_holder_url(holder), holder.get("pid"), settings.server.api_key)
    try:
        httpx.get(daemon.url + "/health", timeout=5)
    except httpx.HTTPError as exc:
        if not _running(daemon.pid):
            return None
        raise DaemonError(f"the vaultrag daemon (pid {daemon.pid}) holds the index of {settings.vault_path} but does "
                          f"not answer at {daemon.url} ({exc}); it may still be starting: try again in a moment") from None
    return daemon


def recorded_daemon_url(settings: Settings) -> str | None:
    """The address the daemon holding this vault's writer lock recorded (it may have died since), or None."""
    holder = read_lock_holder(settings.data_dir / "writer.lock")
    return _holder_url(holder) if holder.get("port") else None


def _holder_url(holder: dict) -> str:
    return http_url(str(holder.get("host") or "127.0.0.1"), int(holder["port"]))


def _running(pid) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it runs
        return True
    return True
