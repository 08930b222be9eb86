"""Reading a PDF's text page by page with pypdfium2 (PDFium, the PDF engine of Chrome, shipped inside the wheel).

Runs only in the parser child (ingest.parse_child): PDFium is native code, and a hostile PDF may crash it. Pages
without a text layer (scans) are read by OCR when `ocr` is given, else listed in `scanned`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
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


def read_pdf(path: Path, max_pages: int, ocr: Ocr | None) -> dict:
    """{"title", "pages": [text of page 1, ...], "scanned": [page numbers left unread], "ocr_pages": n}."""
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
        title = _title(pdf)
        pages, scanned, ocr_pages = [], [], 0
        for number in range(count):
            page = pdf[number]
            try:
                text = _page_text(page)
                if _letters(text) < MIN_PAGE_CHARS:
                    if ocr is not None:
                        text, ocr_pages = ocr(_render(page)), ocr_pages + 1
                    else:
                        scanned.append(number + 1)
                pages.append(text)
            finally:
                page.close()
        return {"title": title, "pages": pages, "scanned": scanned, "ocr_pages": ocr_pages}
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
