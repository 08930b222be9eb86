"""The parser child: `python -m vaultrag.ingest.parse_child MEMORY_MB OCR` reads PDFs and images for the index
writer in a process of its own, so a crash in native code (PDFium, ONNX Runtime) or a file that eats memory costs
this process, never the daemon (ingest.isolation starts it, times it and restarts it).

Its address space is capped at MEMORY_MB (RLIMIT_AS, where the platform has it). Protocol: one JSON object a line
on stdin ({"path", "kind", "max_pages"}), one a line back ({"ok": true, ...read_pdf's fields} or {"ok": false,
"reason"}). JSON, not pickle: a hostile file that took over this process could otherwise run code in the daemon.
Whatever native code prints goes to stderr, never into the replies.

VAULTRAG_TEST_CRASH_ON (tests only): a file whose name contains this text makes the child kill itself with SIGSEGV,
as a crash in native code would.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

from vaultrag.ingest.ocr import OcrEngine
from vaultrag.ingest.pdf_text import read_pdf
from vaultrag.ingest.vault import NoteUnreadable

CRASH_HOOK = "VAULTRAG_TEST_CRASH_ON"


def main(memory_mb: int, use_ocr: bool) -> None:
    _cap_memory(memory_mb)
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # native code that prints writes to stderr, not into the replies
    ocr = OcrEngine() if use_ocr else None
    for line in sys.stdin:
        request = json.loads(line)
        path = Path(request["path"])
        if (hook := os.environ.get(CRASH_HOOK)) and hook in path.name:
            os.kill(os.getpid(), signal.SIGSEGV)
        try:
            reply = {"ok": True, **_read(path, request["kind"], request["max_pages"], ocr)}
        except NoteUnreadable as exc:
            reply = {"ok": False, "reason": exc.reason}
        except MemoryError:
            reply = {"ok": False, "reason": f"needs more than the {memory_mb} MB memory budget of the parser; raise "
                                            "vault.parse_memory_mb to index it"}
        except Exception as exc:  # a parser bug costs this file, never the child
            reply = {"ok": False, "reason": f"could not be read ({type(exc).__name__}: {exc})"}
        replies.write(json.dumps(reply, ensure_ascii=False) + "\n")
        replies.flush()


def _read(path: Path, kind: str, max_pages: int, ocr: OcrEngine | None) -> dict:
    if kind == "pdf":
        return read_pdf(path, max_pages, ocr)
    if ocr is None:
        raise NoteUnreadable(path.name, "image, and no OCR engine: install vaultrag[ocr] to read its text")
    return {"title": "", "pages": [ocr(path)], "scanned": [], "ocr_pages": 1}


def _cap_memory(memory_mb: int) -> None:
    try:
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):  # Windows has no RLIMIT_AS; macOS refuses to lower it
        pass


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2] == "1")
