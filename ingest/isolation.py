"""The index writer's side of the parser child (ingest.parse_child): one long-lived child per sync, started only
when a PDF or image has to be read (an unchanged one costs a stat, never a child), given a time budget per file
and restarted after it dies. Whatever the child does, a bad file becomes a NoteUnreadable with a reason a person
understands; the daemon goes on.
"""

from __future__ import annotations

import json
import logging
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from vaultrag.ingest.vault import NoteUnreadable

log = logging.getLogger(__name__)

STOP_CHECK_S = 0.25  # how often a read in progress looks for a stop request


@dataclass(frozen=True)
class ParseLimits:
    max_bytes: int = 100_000_000  # PDFs and images larger than this are skipped (vault.max_pdf_mb)
    max_pages: int = 2000  # vault.max_pdf_pages
    timeout_s: float = 120.0  # per file (vault.parse_timeout_s)
    memory_mb: int = 2048  # the child's address space (vault.parse_memory_mb)
    ocr: bool = False  # read images and scanned pages (vault.ocr, and the OCR extra installed)


class ParserProcess:
    """`read(path, kind)` -> the child's reply; `close()` ends the child. One caller at a time (the writer)."""

    def __init__(self, limits: ParseLimits):
        self.limits = limits
        self._child: subprocess.Popen | None = None
        self._timed_out = False
        self.started = 0  # children started, for the log and the tests
        self.stop: threading.Event | None = None  # set: the read in progress ends at once (InterruptedError)

    def read(self, file: Path, kind: str, shown: str) -> dict:
        """The child's reading of `file` (`shown`: its vault-relative path, for the error)."""
        child = self._start()
        try:
            child.stdin.write(json.dumps({"path": str(file), "kind": kind, "max_pages": self.limits.max_pages}) + "\n")
            child.stdin.flush()
            line = self._reply(child)
        except BrokenPipeError:
            line = None
        if line is None:
            raise NoteUnreadable(shown, self._died(child))
        reply = json.loads(line)
        if not reply.pop("ok"):
            raise NoteUnreadable(shown, reply["reason"])
        return reply

    def close(self) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        try:
            child.stdin.close()
            child.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            child.kill()
            child.wait()

    def _start(self) -> subprocess.Popen:
        if self._child is None or self._child.poll() is not None:
            command = [sys.executable, "-m", "vaultrag.ingest.parse_child", str(self.limits.memory_mb),
                       "1" if self.limits.ocr else "0"]
            threads = os.environ.get("OMP_NUM_THREADS", "1")  # OpenMP pools of one thread: the model needs the cores
            self._child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                           stderr=subprocess.DEVNULL, text=True, encoding="utf-8",
                                           env={**os.environ, "OMP_NUM_THREADS": threads})
            self.started += 1
        return self._child

    def _reply(self, child: subprocess.Popen) -> str | None:
        """The child's next line, or None when it died or ran out of time (it is then killed)."""
        deadline = time.monotonic() + self.limits.timeout_s
        with selectors.DefaultSelector() as selector:
            selector.register(child.stdout, selectors.EVENT_READ)
            while (left := deadline - time.monotonic()) > 0:
                if self.stop is not None and self.stop.is_set():
                    child.kill()
                    child.wait()
                    self._child = None
                    raise InterruptedError("stopped while the parser child was reading")
                if selector.select(timeout=min(left, STOP_CHECK_S)):
                    return child.stdout.readline() or None
        child.kill()
        child.wait()
        self._timed_out = True
        return None

    def _died(self, child: subprocess.Popen) -> str:
        self._child = None
        if self._timed_out:
            self._timed_out = False
            return (f"took longer than the {self.limits.timeout_s:g} s limit to read; raise vault.parse_timeout_s "
                    "to index it")
        code = child.wait()
        how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
        log.warning("the parser child died (%s); a new one reads the next file", how)
        return (f"the PDF parser crashed on it ({how}): the file is damaged, hostile, or needs more than the "
                f"{self.limits.memory_mb} MB memory budget (vault.parse_memory_mb)")
