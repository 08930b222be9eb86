"""The parser child: `python -m vaultrag.ingest.parse_child MEMORY_MB OCR` reads PDFs and images for the index
writer in a process of its own, so a crash in native code (PDFium, ONNX Runtime) or a file that eats memory costs
this process, never the daemon (ingest.isolation starts it, times it, watches its memory and restarts it).

Its memory budget (MEMORY_MB of resident memory) is kept by the writer, which kills a child over it. Here the
address space is capped well above the budget (RLIMIT_AS, where the platform has it), a backstop for an allocation
too fast for the writer to see: virtual memory runs far ahead of resident memory (thread stacks, allocator arenas).

Protocol: one JSON object a line on stdin ({"path", "kind", "max_pages", "first_page"}); back, one a line, the
messages of ingest.pdf_text.read_pdf ({"ocr": n}, {"page": n, ...}, then {"ok": true, "title"}), or at any point
{"ok": false, "reason"}. JSON, not pickle: a hostile file that took over this process could otherwise run code in
the daemon. Whatever native code prints goes to stderr, never into the replies.

VAULTRAG_TEST_CRASH_ON (tests only): a file whose name contains this text makes the child kill itself with SIGSEGV,
as a crash in native code would.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

from vaultrag.ingest.isolation import over_budget
from vaultrag.ingest.ocr import OcrEngine
from vaultrag.ingest.pdf_text import read_pdf
from vaultrag.ingest.vault import NoteUnreadable

CRASH_HOOK = "VAULTRAG_TEST_CRASH_ON"


def main(memory_mb: int, use_ocr: bool) -> None:
    _cap_address_space(memory_mb)
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # native code that prints writes to stderr, not into the replies

    def send(message: dict) -> None:
        replies.write(json.dumps(message, ensure_ascii=False) + "\n")
        replies.flush()

    ocr = OcrEngine() if use_ocr else None
    for line in sys.stdin:
        request = json.loads(line)
        path = Path(request["path"])
        if (hook := os.environ.get(CRASH_HOOK)) and hook in path.name:
            os.kill(os.getpid(), signal.SIGSEGV)
        try:
            for message in _read(path, request["kind"], request["max_pages"], request["first_page"], ocr):
                send(message)
        except NoteUnreadable as exc:
            send({"ok": False, "reason": exc.reason})
        except MemoryError:
            send({"ok": False, "reason": over_budget(memory_mb)})
        except Exception as exc:  # a parser bug costs this file, never the child
            send({"ok": False, "reason": f"could not be read ({type(exc).__name__}: {exc})"})


def _read(path: Path, kind: str, max_pages: int, first_page: int, ocr: OcrEngine | None) -> Iterator[dict]:
    if kind == "pdf":
        yield from read_pdf(path, max_pages, ocr, first_page)
        return
    if ocr is None:
        raise NoteUnreadable(path.name, "image, and no OCR engine: install vaultrag[ocr] to read its text")
    yield {"ocr": 1}
    yield {"page": 1, "text": ocr(path), "scanned": False}
    yield {"ok": True, "title": ""}


def _cap_address_space(memory_mb: int) -> None:
    try:
        import resource

        limit = (2 * memory_mb + 1024) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):  # Windows has no RLIMIT_AS; macOS refuses to lower it
        pass


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2] == "1")
