"""Talking to the running daemon, found through the writer lock: its address, and `vaultrag status`'s answer (the
index on disk when no daemon runs)."""

from __future__ import annotations

import httpx

from vaultrag.config.settings import Settings
from vaultrag.ingest.index import DataDir, read_lock_holder
from vaultrag.service.daemon.status import offline_status

_ANY_ADDRESS = {"0.0.0.0": "127.0.0.1", "::": "::1"}  # a daemon bound to all addresses is reached on loopback


def recorded_daemon_url(settings: Settings) -> str | None:
    """The address the daemon holding this vault's writer lock recorded (it may have died since), or None."""
    holder = read_lock_holder(settings.data_dir / "writer.lock")
    if not holder.get("port"):
        return None
    host = _ANY_ADDRESS.get(holder["host"], holder["host"])
    return f"http://{f'[{host}]' if ':' in host else host}:{holder['port']}"


def current_status(settings: Settings) -> dict:
    data = DataDir(settings.data_dir, settings.store.url)
    url = recorded_daemon_url(settings)
    if url:
        try:
            response = httpx.get(f"{url}/api/status", timeout=5)
            response.raise_for_status()
            return response.json()
        except httpx.HTTPError:
            pass  # recorded by a daemon that is gone: read the index itself
    index = data.open_active() if settings.data_dir.is_dir() else None
    try:
        return offline_status(str(settings.vault_path), index)
    finally:
        if index is not None:
            index.close()
