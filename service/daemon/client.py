"""Where `vaultrag status` gets its answer: the running daemon (found through the writer lock) or the index on disk."""

from __future__ import annotations

import httpx

from vaultrag.config.settings import Settings
from vaultrag.ingest.index import DataDir
from vaultrag.ingest.writer_lock import read_lock_holder
from vaultrag.service.daemon.status import offline_status


def current_status(settings: Settings) -> dict:
    data = DataDir(settings.data_dir, settings.store.url)
    holder = read_lock_holder(settings.data_dir / "writer.lock")
    if holder.get("port"):
        try:
            response = httpx.get(f"http://{holder['host']}:{holder['port']}/api/status", timeout=5)
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
