"""The `vaultrag doctor` row for files that are not Markdown: which kinds the settings index, how PDFs are read
(PDFium in a child process, with its limits), and whether OCR is available for images and scans, and what it costs."""

from __future__ import annotations

from importlib import metadata

from vaultrag.config.settings import Settings
from vaultrag.ingest.ocr import PACKAGE, ocr_version
from vaultrag.service.ops.doctor_report import Row

# Measured by bench/pdf_bench.py on a 2-core x86-64 VM (bench/README.md), rounded the safe way: text pages read a
# second (686 measured idle), seconds per scanned page with OCR (3.9 idle; up to 40 while other work held the cores),
# and the parser child's peak memory with OCR (said in the row, not added to the plan's total: the child runs only
# while a sync reads PDFs or images).
TEXT_PAGES_PER_S = 50
OCR_SECONDS_PER_PAGE = 4
OCR_SECONDS_PER_PAGE_BUSY = 40
OCR_CHILD_GB = 1.0


def documents_row(settings: Settings) -> Row:
    vault = settings.vault
    kinds = [name for glob, name in (("pdf", "PDFs"), ("canvas", "Canvas boards"), ("md", "Markdown and Excalidraw"))
             if any(g.lower().endswith("." + glob) for g in vault.include)]
    pdf = (f"PDFs with pypdfium2 {_version('pypdfium2')} in a child process ({vault.parse_memory_mb} MB, "
           f"{vault.parse_timeout_s:g} s a file, up to {vault.max_pdf_pages} pages and {vault.max_pdf_mb:g} MB)")
    version = ocr_version()
    if version is None:
        ocr = "OCR: not installed (pip install \"vaultrag[ocr]\" reads images and scanned PDFs, offline)"
    elif not vault.ocr:
        ocr = f"OCR: {PACKAGE} {version} installed, off (vault.ocr = false)"
    else:
        ocr = (f"OCR: {PACKAGE} {version}, about {OCR_SECONDS_PER_PAGE:g} s a scanned page or image on 2 idle cores "
               f"(up to {OCR_SECONDS_PER_PAGE_BUSY:g} s on busy ones) and {OCR_CHILD_GB:g} GB while reading (text "
               f"pages: {TEXT_PAGES_PER_S} or more a second); at most {vault.ocr_page_timeout_s:g} s a page, "
               f"{vault.ocr_file_timeout_s:g} s a file")
    on = version is not None and vault.ocr
    return Row("documents", f"indexes {', '.join(kinds) or 'nothing'}; {pdf}; {ocr}",
               "finds what your PDFs, boards, drawings" + (", images" if on else "") + " say, cited to the page",
               None)


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "(not installed)"
