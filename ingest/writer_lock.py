"""The one-writer lock of a data dir (`writer.lock`), through `filelock`, and who holds it.

The lock is an exclusive flock (filelock's native Unix lock), so the kernel releases it when the process dies, even
by SIGKILL. While it is held the file holds the holder's `{"pid", "vault", ...}` as JSON (the daemon adds its host
and port), which a second process names in its refusal and `vaultrag status` / `vaultrag doctor` read; it is
emptied on release. The soft fallback filelock offers where flock is missing is turned off: its marker would take
the place of that record.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import filelock

from vaultrag.ingest.errors import IndexBusy, storage_error


def read_lock_holder(path: Path) -> dict:
    """What the process holding the writer lock recorded about itself ({} when unknown)."""
    try:
        return json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return {}


class WriterLock:
    """`with WriterLock(path, info):` the only writer of the data dir holding `path`; IndexBusy if another is."""

    def __init__(self, path: Path, info: dict):
        self.path = path
        self.info = info
        # thread_local=False: the daemon may take the lock on one thread and give it back on another.
        self._lock = filelock.FileLock(path, timeout=0, mode=0o600, thread_local=False, fallback_to_soft=False,
                                       on_acquired=self._record)

    def __enter__(self) -> "WriterLock":
        try:
            self._lock.acquire()
        except filelock.Timeout:
            holder = read_lock_holder(self.path)
            serving = f", serving http://{holder['host']}:{holder['port']}" if holder.get("port") else ""
            raise IndexBusy(f"another vaultrag process (pid {holder.get('pid', '?')}{serving}) is already writing "
                            f"the index of {holder.get('vault', self.path.parent)}; stop it first or use it") from None
        except OSError as exc:
            error = storage_error(self.path.parent, exc)
            if error is None:
                raise
            raise error from exc
        return self

    def __exit__(self, *_) -> None:
        if not self._lock.is_locked:
            return
        try:  # emptied while still held, so it never erases the record of the next holder
            os.truncate(self.path, 0)
        except OSError:
            pass
        self._lock.release()

    def _record(self, fd: int) -> None:
        """Who holds the lock, for a second process to name; the lock itself needs no space on disk."""
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps({"pid": os.getpid(), **self.info}).encode(), 0)
        except OSError:
            pass
