"""Reading a PDF's text page by page with pypdfium2 (PDFium, the PDF engine of Chrome, shipped inside the wheel).

Runs only in the parser child (ingest.parse_child): PDFium is native code, and a hostile PDF may crash it. Pages
without a text layer (scans) are read by OCR when `ocr` is given, else marked `scanned`. Each page is sent as it is
read, so a page that OCR takes too long on costs that page, not the pages before it (ingest.isolation).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pypdfium2 as pdfium

from vaultrag.ingest.vault import NoteUnreadable

MIN_PAGE_CHARS = 8  # a page with fewer letters or digits than this has no text layer worth the name
OCR_PIXELS = 1600  # a scanned page is rendered this many pixels on its longer side for OCR (2500: 40 % slower)
_ERRORS = {  # PDFium's error codes (FPDF_ERR_*) in words
    "password": "encrypted PDF (it needs a password); save a copy without a password to index it",
    "format": "not a valid PDF (damaged or truncated)",
    "file": "not a valid PDF (the file is truncated or cannot be read)",
    "security": "PDF with an unsupported security handler",
}

Ocr = Callable[[object], str]  # a rendered page (numpy array, BGR) -> its text


def read_pdf(path: Path, max_pages: int, ocr: Ocr | None, first_page: int = 1) -> Iterator[dict]:
    """The messages the parser child sends for one PDF, pages from `first_page` on (those before it were read by a
    child that was stopped): {"ocr": n} before page n is read by OCR, so the writer can time that page on its own;
    {"page": n, "text": ..., "scanned": bool} after each page (scanned: no text layer, and no OCR to read it); last
    {"ok": True, "title": metadata title or ""}. NoteUnreadable when the file cannot be read at all."""
    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        raise NoteUnreadable(path.name, next((why for key, why in _ERRORS.items() if key in message),
                                             f"not a readable PDF ({exc})")) from None
    try:
        count = len(pdf)
        if count > max_pages:
            raise NoteUnreadable(path.name, f"larger than the {max_pages}-page limit ({count} pages); raise "
                                            "vault.max_pdf_pages to index it")
        for number in range(first_page, count + 1):
            page = pdf[number - 1]
            try:
                text = _page_text(page)
                scanned = _letters(text) < MIN_PAGE_CHARS
                if scanned and ocr is not None:
                    yield {"ocr": number}
                    text, scanned = ocr(_render(page)), False
                yield {"page": number, "text": text, "scanned": scanned}
            finally:
                page.close()
        yield {"ok": True, "title": _title(pdf)}
    finally:
        pdf.close()


def _page_text(page) -> str:
    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range()
    finally:
        textpage.close()
    # PDFium ends lines with \r\n and marks soft hyphens and form feeds; a word hyphenated over a line is joined.
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x02", "").replace("\ufffe", "").replace("\f", "\n")
    return re.sub(r"(\w)-\n(\w)", r"\1\2", text).strip()


def _title(pdf) -> str:
    try:
        title = (pdf.get_metadata_value("Title") or "").strip()
    except Exception:  # metadata in a broken encoding: the file name will do
        return ""
    return "" if title.lower() in ("untitled", "untitled document") else title


def _render(page):
    width, height = page.get_size()
    scale = OCR_PIXELS / max(width, height, 1)
    return page.render(scale=scale).to_numpy()


def _letters(text: str) -> int:
    return sum(1 for char in text if char.isalnum())
