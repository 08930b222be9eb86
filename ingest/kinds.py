"""The kinds of file vaultrag indexes, told apart by name: Markdown notes, Excalidraw drawings, Canvas boards, PDFs
and images (read only with the OCR extra). Also how a PDF page is named in a chunk's heading and in a link."""

from __future__ import annotations

import re

KINDS = ("note", "excalidraw", "canvas", "pdf", "image")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
# vault.include's default: one glob per kind (remove one to stop indexing that kind).
DEFAULT_INCLUDE = ("**/*.md", "**/*.canvas", "**/*.pdf", *(f"**/*{suffix}" for suffix in IMAGE_SUFFIXES))

_PAGE = re.compile(r"Page (\d+)")


def kind_of(path: str) -> str:
    """The kind of the file at `path` (by its name, without letter case); "note" for any other name.

    Each manifest row keeps its kind (ingest.manifest): a change here goes with a new PARSER_VERSION, so that the
    next sync rewrites every row."""
    name = path.lower()
    if name.endswith(".excalidraw.md") or name.endswith(".excalidraw"):
        return "excalidraw"
    if name.endswith(".canvas"):
        return "canvas"
    if name.endswith(".pdf"):
        return "pdf"
    if name.endswith(IMAGE_SUFFIXES):
        return "image"
    return "note"


def is_attachment(path: str) -> bool:
    """Files read as bytes in the parser child (PDFs and images), not as text."""
    return kind_of(path) in ("pdf", "image")


def page_heading(page: int) -> str:
    """The last part of a PDF chunk's breadcrumb: "Paper > Page 3"."""
    return f"Page {page}"


def page_of(section: str) -> int | None:
    """The page a section named by `page_heading` is, else None."""
    match = _PAGE.fullmatch(section)
    return int(match.group(1)) if match else None
