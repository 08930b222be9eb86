"""The active index as searches hold it: reopened after a model switch, closed only when no search holds it."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

from vaultrag.ingest.index import DataDir, Index


class ActiveIndex:
    """Counts the searches holding each open index; one the writer switched away from is closed by its last one."""

    def __init__(self, data: DataDir):
        self._data = data
        self._lock = threading.Lock()
        self._current: Index | None = None
        self._holders: dict[int, int] = {}  # id(index) -> searches holding it now

    @contextmanager
    def hold(self) -> Iterator[Index | None]:
        """`with active.hold() as index:` the active index (None before the first index), kept open meanwhile."""
        name = self._data.active_name()
        with self._lock:
            if self._current is None or self._current.name != name:
                previous, self._current = self._current, self._data.open_active()
                if previous is not None and not self._holders.get(id(previous)):
                    previous.close()
            index = self._current
            if index is not None:
                self._holders[id(index)] = self._holders.get(id(index), 0) + 1
        try:
            yield index
        finally:
            if index is not None:
                self._release(index)

    def _release(self, index: Index) -> None:
        with self._lock:
            left = self._holders[id(index)] - 1
            if left:
                self._holders[id(index)] = left
                return
            del self._holders[id(index)]
            retired = index is not self._current
        if retired:
            index.close()

    def close(self) -> None:
        """Close the current index now, or when the searches holding it finish."""
        with self._lock:
            index, self._current = self._current, None
            held = index is not None and self._holders.get(id(index))
        if index is not None and not held:
            index.close()
