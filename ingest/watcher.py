"""Watching the vault for changes and handing them over as debounced, coalesced batches of paths.

`VaultWatcher` never touches the index: it calls `on_batch(paths)` with the vault-relative posix paths that were
created, modified, deleted or moved (a move gives both its source and its destination, a folder move the folder's
old and new paths), and its owner, the single index writer, syncs them. Batches form as in watchfiles: after the
first event, keep collecting until `debounce_s` passes with no new event or `max_wait_s` has passed since the
first one. `on_batch` runs on the watcher's own thread, one call at a time; if it raises, the error is logged and
watching goes on. A path that appeared and vanished within a batch is still reported; the sync finds it gone.

Noise is dropped: anything under a dot-folder (`.obsidian/`, `.trash/`, `.git/`) or named with a leading dot, and
editor temporary files (`_TEMP_NAMES`). A move is judged by each end on its own, so an atomic save (write
`note.md.tmp`, rename it over `note.md`) reports `note.md`, and a note moved to `.trash/` reports its old path.

`choose_mode` picks watchdog's native observer (inotify, FSEvents, ...) or its polling one: polling where native
events do not arrive, on network and virtual filesystems. A native observer that fails to start (the inotify
watch limit, say) falls back to polling with a warning.
"""

from __future__ import annotations

import errno
import fnmatch
import logging
import os
import queue
import re
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

log = logging.getLogger(__name__)

MOUNTS = Path("/proc/self/mounts")
# Filesystems where changes made elsewhere (another machine, the Windows or VM host) raise no native events.
_POLLED_FS = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "drvfs", "virtiofs", "vboxsf", "davfs"}
# Editor temporaries, matched case-insensitively against the file name (dot-names are dropped before this).
_TEMP_NAMES = ("*.swp", "*.swx", "*~", "*.tmp", "*.crdownload", "4913", "*.sb-*", "~$*")
_REPORTED = {"created", "modified", "deleted", "moved"}
_JOIN_S = 2.0  # how long stop() waits for each thread
_STOP = object()  # tells the batching thread to deliver what it holds and end


def choose_mode(root: Path, mode: str, mounts: Path = MOUNTS) -> str:
    """"native" or "polling": `mode` itself unless it is "auto", which polls on network and virtual filesystems."""
    if mode in ("native", "polling"):
        return mode
    if mode != "auto":
        raise ValueError(f'watch mode must be "auto", "native" or "polling", not {mode!r}')
    if not sys.platform.startswith("linux"):
        return "native"
    fs_type = _fs_type(str(Path(root).resolve()), mounts)
    return "polling" if fs_type in _POLLED_FS or fs_type.startswith("fuse.") else "native"


def _fs_type(path: str, mounts: Path) -> str:
    """The filesystem type of the mount holding `path` (the longest mount point above it; the last one mounted)."""
    try:
        lines = mounts.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    except OSError:
        return ""
    best, best_type = -1, ""
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[1])  # "\040" is a space
        inside = point == "/" or path == point or path.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= best:
            best, best_type = len(point), fields[2]
    return best_type


def _ignored(rel: str) -> bool:
    """True for paths under a dot-folder, dot-files and editor temporaries."""
    parts = rel.split("/")
    name = parts[-1].lower()
    return any(p.startswith(".") for p in parts) or any(fnmatch.fnmatchcase(name, t) for t in _TEMP_NAMES)


class VaultWatcher:
    """Watches `root` and calls `on_batch` with the set of vault-relative paths that changed (see module docs)."""

    def __init__(
        self,
        root: Path,
        on_batch: Callable[[set[str]], None],
        mode: str = "auto",
        debounce_s: float = 0.3,
        max_wait_s: float = 3.0,
        poll_interval_s: float = 1.0,
    ):
        self.root = Path(root).resolve()
        self.mode_used = ""  # "native" or "polling" once started
        self._on_batch = on_batch
        self._mode = mode
        self._debounce_s = debounce_s
        self._max_wait_s = max_wait_s
        self._poll_interval_s = poll_interval_s
        self._lock = threading.Lock()
        self._observer: BaseObserver | None = None
        self._batcher: threading.Thread | None = None
        self._queue: queue.Queue = queue.Queue()

    def start(self) -> None:
        """Start watching; does nothing if already started."""
        with self._lock:
            if self._observer is not None:
                return
            self._queue = queue.Queue()
            mode = choose_mode(self.root, self._mode)
            if mode == "native":
                try:
                    self._observer = self._start_observer(Observer())
                except OSError as e:
                    log.warning("native file events unavailable for %s (%s); polling instead. %s",
                                self.root, e.strerror or e, _advice(e))
                    mode = "polling"
            if mode == "polling":
                self._observer = self._start_observer(PollingObserver(timeout=self._poll_interval_s))
            self.mode_used = mode
            self._batcher = threading.Thread(target=self._run, args=(self._queue,), name="vault-watcher", daemon=True)
            self._batcher.start()
            log.info("watching %s (%s)", self.root, mode)

    def stop(self) -> None:
        """Stop watching, deliver the batch being collected, and join the threads; does nothing if not started."""
        with self._lock:
            observer, batcher, self._observer, self._batcher = self._observer, self._batcher, None, None
            if observer is None:
                return
            observer.stop()
            observer.join(_JOIN_S)
            self._queue.put(_STOP)
            batcher.join(_JOIN_S)
            if batcher.is_alive():
                log.warning("on_batch still running after %.0f s; not waiting for it", _JOIN_S)

    def _start_observer(self, observer: BaseObserver) -> BaseObserver:
        observer.schedule(_Handler(str(self.root), self._queue), str(self.root), recursive=True)
        observer.start()
        return observer

    def _run(self, events: queue.Queue) -> None:
        """The batching thread: gather paths into batches and hand each to `on_batch`, until told to stop."""
        while True:
            first = events.get()
            if first is _STOP:
                return
            batch, stopping = {first}, False
            deadline = time.monotonic() + self._max_wait_s
            while (wait := min(self._debounce_s, deadline - time.monotonic())) > 0:
                try:
                    item = events.get(timeout=wait)
                except queue.Empty:
                    break  # a quiet step: the batch is complete
                if item is _STOP:
                    stopping = True
                    break
                batch.add(item)
            try:
                self._on_batch(batch)
            except Exception:
                log.exception("on_batch failed for a batch of %d changed paths; watching goes on", len(batch))
            if stopping:
                return


class _Handler(FileSystemEventHandler):
    """Turns watchdog events into vault-relative paths on the batching queue, dropping noise."""

    def __init__(self, root: str, events: queue.Queue):
        self._root = root
        self._events = events

    def on_any_event(self, event: FileSystemEvent) -> None:
        # A folder's "modified" only says its listing changed, which its children's own events already report.
        if event.event_type not in _REPORTED or (event.is_directory and event.event_type == "modified"):
            return
        for path in (event.src_path, event.dest_path):
            if not path:
                continue
            rel = os.path.relpath(os.fsdecode(path), self._root).replace(os.sep, "/")
            if not _ignored(rel):  # also drops "." (the vault itself) and anything outside it
                self._events.put(rel)


def _advice(e: OSError) -> str:
    """How to lift the inotify limit behind `e`, if that is what it is."""
    if e.errno == errno.ENOSPC:
        return ("To watch natively, raise the inotify watch limit: sudo sysctl fs.inotify.max_user_watches=524288 "
                "(and add that setting to /etc/sysctl.d/ to keep it).")
    if e.errno == errno.EMFILE:
        return "To watch natively, raise fs.inotify.max_user_instances with sysctl."
    return ""
