"""The index writer's side of the parser child (ingest.parse_child): one long-lived child per sync, started only
when a PDF or image has to be read (an unchanged one costs a stat, never a child), restarted after it dies. Whatever
the child does, a bad file becomes a NoteUnreadable with a reason a person understands; the daemon goes on.

Budgets, each kept here by killing the child:
- time: `timeout_s` for a file, not counting the pages OCR reads; each of those has `ocr_page_timeout_s`, and a
  page over it is skipped (listed in the reading's `slow`; a new child goes on from the next page), so a long scan
  is read page by page and one page that OCR cannot finish costs only that page. With OCR on, `ocr_file_timeout_s`
  bounds a file with all its OCR: a scan bomb is stopped there.
- memory: the child's resident memory, looked at every STOP_CHECK_S; over `memory_mb`, the file has failed.
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

import psutil

from vaultrag.ingest.vault import NoteUnreadable

log = logging.getLogger(__name__)

STOP_CHECK_S = 0.25  # how often a read in progress looks for a stop request and at the child's memory


@dataclass(frozen=True)
class ParseLimits:
    max_bytes: int = 100_000_000  # PDFs and images larger than this are skipped (vault.max_pdf_mb)
    max_pages: int = 2000  # vault.max_pdf_pages
    timeout_s: float = 120.0  # per file, the pages OCR reads aside (vault.parse_timeout_s)
    memory_mb: int = 2048  # the child's resident memory (vault.parse_memory_mb)
    ocr: bool = False  # read images and scanned pages (vault.ocr, and the OCR extra installed)
    ocr_page_timeout_s: float = 120.0  # per page or image read by OCR (vault.ocr_page_timeout_s)
    ocr_file_timeout_s: float = 7200.0  # per file, OCR included (vault.ocr_file_timeout_s)


def over_budget(memory_mb: int) -> str:
    """The reason given for a file that needs more memory than the parser child may have."""
    return f"needs more than the {memory_mb} MB memory budget of the parser; raise vault.parse_memory_mb to index it"


class _Ended(Exception):
    """The child was killed (over a budget) or died; `why`: "time", "page", "file", "memory" or "died"."""

    def __init__(self, why: str):
        super().__init__(why)
        self.why = why


class _Clock:
    """The deadlines of one file: the text budget runs while no page is in OCR; a page in OCR has its own."""

    def __init__(self, limits: ParseLimits):
        self.limits = limits
        self.mark = time.monotonic()
        self.ceiling = self.mark + limits.ocr_file_timeout_s if limits.ocr else float("inf")
        self.text_left = limits.timeout_s
        self.in_ocr = False

    def ocr_started(self) -> None:
        now = time.monotonic()
        self.text_left -= now - self.mark
        self.mark, self.in_ocr = now, True

    def page_done(self) -> None:
        if self.in_ocr:
            self.mark, self.in_ocr = time.monotonic(), False

    def deadline(self) -> tuple[float, str]:
        """When the read in progress runs out of time, and which budget that is."""
        if self.in_ocr:
            own = (self.mark + self.limits.ocr_page_timeout_s, "page")
        else:
            own = (self.mark + self.text_left, "time")
        return own if own[0] <= self.ceiling else (self.ceiling, "file")


class ParserProcess:
    """`read(path, kind)` -> the file's reading; `close()` ends the child. One caller at a time (the writer)."""

    def __init__(self, limits: ParseLimits):
        self.limits = limits
        self._child: subprocess.Popen | None = None
        self._pending = bytearray()  # what the child wrote past its last line read
        self.started = 0  # children started, for the log and the tests
        self.stop: threading.Event | None = None  # set: the read in progress ends at once (InterruptedError)

    def read(self, file: Path, kind: str, shown: str) -> dict:
        """{"title", "pages": [text of page 1, ...], "scanned": [pages with no text layer, left unread], "slow":
        [pages skipped, over the OCR page budget]} of `file` (`shown`: its vault-relative path, for the error)."""
        reading = {"title": "", "pages": [], "scanned": [], "slow": []}
        clock = _Clock(self.limits)
        while True:
            child = self._start()
            request = {"path": str(file), "kind": kind, "max_pages": self.limits.max_pages,
                       "first_page": len(reading["pages"]) + 1}
            try:
                child.stdin.write(json.dumps(request).encode() + b"\n")
                child.stdin.flush()
                self._follow(child, clock, reading, shown)
                return reading
            except BrokenPipeError:
                self._end(child)
                raise NoteUnreadable(shown, self._reason("died", child)) from None
            except _Ended as ended:
                if ended.why != "page":
                    raise NoteUnreadable(shown, self._reason(ended.why, child)) from None
                page = len(reading["pages"]) + 1
                if kind != "pdf":  # an image is one page: it is the file that is over the budget
                    raise NoteUnreadable(shown, self._reason("page", child)) from None
                log.warning("a page took longer than vault.ocr_page_timeout_s to read by OCR; it is skipped")
                reading["pages"].append("")
                reading["slow"].append(page)
                clock.page_done()

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
                                           stderr=subprocess.DEVNULL, env={**os.environ, "OMP_NUM_THREADS": threads})
            self._pending = bytearray()
            self.started += 1
        return self._child

    def _follow(self, child: subprocess.Popen, clock: _Clock, reading: dict, shown: str) -> None:
        """The child's messages for one request, into `reading`, until the file is read. Raises _Ended, or a
        NoteUnreadable with the child's own reason."""
        while True:
            message = json.loads(self._line(child, clock))
            if "ocr" in message:
                clock.ocr_started()
            elif "page" in message:
                clock.page_done()
                reading["pages"].append(message["text"])
                if message["scanned"]:
                    reading["scanned"].append(message["page"])
            elif message["ok"]:
                reading["title"] = message["title"]
                return
            else:
                raise NoteUnreadable(shown, message["reason"])

    def _line(self, child: subprocess.Popen, clock: _Clock) -> str:
        """The child's next line; _Ended when it died, ran out of time or over its memory (it is then killed).
        Read unbuffered, as bytes: lines that came in one read wait in `_pending`, where a select would not see them."""
        with selectors.DefaultSelector() as selector:
            selector.register(child.stdout, selectors.EVENT_READ)
            while (end := self._pending.find(b"\n")) < 0:
                deadline, budget = clock.deadline()
                if (left := deadline - time.monotonic()) <= 0:
                    self._end(child)
                    raise _Ended(budget)
                if self.stop is not None and self.stop.is_set():
                    self._end(child)
                    raise InterruptedError("stopped while the parser child was reading")
                if self._resident_mb(child) > self.limits.memory_mb:
                    self._end(child)
                    raise _Ended("memory")
                if selector.select(timeout=min(left, STOP_CHECK_S)):
                    data = os.read(child.stdout.fileno(), 1 << 16)
                    if not data:
                        raise _Ended("died")
                    self._pending += data
        line = self._pending[:end].decode("utf-8")
        del self._pending[:end + 1]
        return line

    def _end(self, child: subprocess.Popen) -> None:
        if child.poll() is None:
            child.kill()
        child.wait()
        self._child = None

    @staticmethod
    def _resident_mb(child: subprocess.Popen) -> float:
        try:
            return psutil.Process(child.pid).memory_info().rss / 1_000_000
        except psutil.Error:  # it has just ended: the next read of its output says so
            return 0.0

    def _reason(self, why: str, child: subprocess.Popen) -> str:
        limits = self.limits
        if why == "time":
            return f"took longer than the {limits.timeout_s:g} s limit to read; raise vault.parse_timeout_s to index it"
        if why == "page":
            return (f"OCR took longer than the {limits.ocr_page_timeout_s:g} s limit for one image or page; raise "
                    "vault.ocr_page_timeout_s to index it")
        if why == "file":
            return (f"took longer than the {limits.ocr_file_timeout_s:g} s limit for one file read with OCR; raise "
                    "vault.ocr_file_timeout_s to index it")
        if why == "memory":
            return over_budget(limits.memory_mb) + " (the parser was stopped)"
        self._child = None
        code = child.wait()
        how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
        log.warning("the parser child died (%s); a new one reads the next file", how)
        return (f"the PDF parser crashed on it ({how}): the file is damaged, hostile, or needs more than the "
                f"{limits.memory_mb} MB memory budget (vault.parse_memory_mb)")
