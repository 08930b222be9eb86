"""The one thread that writes the index: the startup reconcile, watcher batches, periodic sweeps and re-index
requests all become syncs run here, in order. Requests that arrive during a sync are coalesced into one more.

A sync that fails (a full or read-only data dir, a Chroma server that went away, Ollama down: state "paused") leaves a consistent index and is
retried by itself, soon and then less often, or at once on the next change; searches go on meanwhile.

The thread owns the indexer once started: it closes the manifest and releases the writer lock when it ends, so a
stop that gives up waiting never closes them under a sync still running."""

from __future__ import annotations

import logging
import threading
import time

from vaultrag.config.errors import VaultragError
from vaultrag.ingest.errors import EmbedderUnavailable
from vaultrag.ingest.pipeline import VaultIndexer
from vaultrag.ingest.sync import SyncProgress
from vaultrag.service.daemon.status import IndexStatus

log = logging.getLogger(__name__)

WRITER_THREAD = "index-writer"
RETRY_SECONDS = (2.0, 60.0)  # the first retry after a failed sync, doubling up to the second


class IndexWriter:
    def __init__(self, indexer: VaultIndexer, status: IndexStatus, sweep_seconds: float = 0):
        self._indexer = indexer
        self._status = status
        self._sweep = sweep_seconds or None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._forget: list[str | None] = []  # re-index requests: a path, or None for everything
        self._paths: set[str] = set()  # what the watcher's batches since the last sync named
        self._full = True  # the next sync covers the whole vault (the startup reconcile, a sweep, a retry)
        self._requests = threading.Lock()
        self._thread: threading.Thread | None = None
        self._retry: float | None = None  # seconds until the next try while syncs fail
        self.syncs = 0  # completed syncs, for tests and the status page
        self._begun = 0  # syncs begun, and the number of the last one that completed
        self._completed = 0
        self._progressed = threading.Condition()
        self._stop_asked: float | None = None  # time.monotonic() of the first request to stop

    def start(self) -> None:
        if self._thread is None:
            self._wake.set()  # the startup reconcile
            self._indexer.hand_over()
            self._thread = threading.Thread(target=self._run, name=WRITER_THREAD, daemon=True)
            self._thread.start()

    def request_sync(self, paths: set[str] | None = None) -> None:
        """Something changed (the watcher saw `paths`; None: anything may have): sync soon, only those paths when
        every request since the last sync named its paths. Many requests make one sync."""
        with self._requests:
            if paths is None:
                self._full = True
            else:
                self._paths |= paths
        self._wake.set()

    def sync_now(self, paths: set[str], timeout: float = 30.0) -> bool:
        """Sync `paths` soon and wait for it: whether a sync that began after this call completed within `timeout`."""
        with self._progressed:
            wanted = self._begun + 1
            self.request_sync(paths)
            return self._progressed.wait_for(lambda: self._completed >= wanted, timeout)

    def reindex(self, path: str | None = None) -> None:
        """Redo `path` (vault-relative), or every file with a check of the store against the manifest."""
        with self._requests:
            self._forget.append(path)
        self._wake.set()

    def ask_to_stop(self) -> None:
        """Begin stopping (the daemon calls this as the signal comes): the batch in hand is the last."""
        if self._stop_asked is None:
            self._stop_asked = time.monotonic()
        self._stop.set()
        self._wake.set()

    def stop(self, timeout: float = 6.0) -> None:
        """Finish the batch in hand, commit it, close the index and return, waiting `timeout` seconds at most from
        the first `ask_to_stop` (or from now)."""
        self.ask_to_stop()
        if self._thread is None:
            self._indexer.close()
            return
        self._thread.join(max(self._stop_asked + timeout - time.monotonic(), 0))
        if self._thread.is_alive():
            log.warning("index writer still busy after %.0f s; it closes the index when its batch ends, or the next "
                        "start redoes that batch", timeout)
        self._thread = None

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                woken = self._wake.wait(self._retry or self._sweep)
                if self._stop.is_set():
                    break
                self._wake.clear()
                self._sync("change" if woken else "retry" if self._retry else "sweep")
        finally:
            self._indexer.close()

    def _sync(self, reason: str) -> None:
        with self._requests:
            forget, self._forget = self._forget, []
            paths, self._paths = self._paths, set()
            full, self._full = self._full or bool(forget) or reason != "change", False
        with self._progressed:
            self._begun += 1
            number = self._begun
        try:
            with self._indexer.data.guard():
                while forget:
                    self._indexer.forget(forget[0])
                    forget.pop(0)
                started = time.monotonic()
                summary = self._indexer.sync(self._progress, self._stop, None if full else paths)
        except Exception as exc:  # never let one bad sync end the daemon: report it and retry
            with self._requests:
                self._forget[:0] = forget  # the re-index requests not yet recorded are kept for the retry
                self._full = True
            self._retry = min(self._retry * 2, RETRY_SECONDS[1]) if self._retry else RETRY_SECONDS[0]
            if isinstance(exc, VaultragError):  # a cause a person can fix, said in one line
                log.error("sync failed: %s (retrying in %.0f s, or on the next change)", exc, self._retry)
                error = str(exc)
            else:
                log.exception("sync failed (retrying in %.0f s, or on the next change)", self._retry)
                error = f"{type(exc).__name__}: {exc}"
            # the embedding server (Ollama, a remote one) is down: indexing waits for it, nothing is wrong here
            self._status.update(state="paused" if isinstance(exc, EmbedderUnavailable) else "error", error=error)
            return
        self._retry = None
        self.syncs += 1
        with self._progressed:
            self._completed = number
            self._progressed.notify_all()
        self._status.on_synced(summary, time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        if summary.indexed or summary.renamed or summary.deleted or summary.chunks_removed or reason != "sweep":
            log.info("sync (%s): %d indexed, %d renamed, %d deleted, %d unchanged, %d skipped/failed, "
                     "%d chunks embedded, %.2f s%s", reason, summary.indexed, summary.renamed, summary.deleted,
                     summary.unchanged, len(summary.skipped) + len(summary.failed), summary.embedded,
                     time.monotonic() - started, "" if summary.complete else " (stopped early for shutdown)")

    def _progress(self, p: SyncProgress) -> None:
        self._status.on_progress(p, self._indexer.index.store.count())
