"""`read_note` for the files that are not plain Markdown notes. A PDF's or image's text comes from the index, as the
parser child read it, page by page under a "--- Page 3 ---" marker (PDFium never runs in the daemon); `heading`
"Page 3" reads one page. A Canvas board or an Excalidraw drawing is parsed as the index parses it and read as the
Markdown that gives: card texts under their group labels, a drawing's words without its drawing data.
"""

from __future__ import annotations

from dataclasses import replace

from vaultrag.ingest.canvas import parse_canvas
from vaultrag.ingest.chunking import merge_bodies
from vaultrag.ingest.excalidraw import parse_excalidraw
from vaultrag.ingest.index import Index
from vaultrag.ingest.kinds import page_heading, page_of
from vaultrag.service.search.searcher import chunk_body
from vaultrag.service.tools.reading import NoteText, capped, note_text

PARSED = {"canvas": parse_canvas, "excalidraw": parse_excalidraw}
PAGED = ("pdf", "image")

Pages = list[tuple[int | None, str]]  # (page, its text), in order; an image's one "page" is None


def indexed_pages(index: Index, path: str, chunks: int) -> Pages:
    """The text of the indexed PDF or image at `path` (of `chunks` chunks), page by page, as its chunks hold it."""
    pages: dict[int | None, list[str]] = {}
    for hit in index.store.neighbours(path, list(range(chunks))):
        pages.setdefault(hit.metadata.get("page"), []).append(chunk_body(hit))
    return [(page, "\n\n".join(parts)) for page, parts in pages.items()]


def pages_text(pages: Pages, heading: str | None, max_chars: int) -> NoteText | None:
    """The pages as `read_note` returns them, or only the page `heading` names ("Page 3", or a search result's
    breadcrumb "Paper > Page 3"); None when the file has no such page."""
    listed = [page_heading(page) for page, _ in pages if page is not None]
    wanted = None
    if heading is not None and heading.strip():
        wanted = page_of(heading.split(" > ")[-1].strip().capitalize())
        pages = [(page, text) for page, text in pages if page is not None and page == wanted]
        if not pages:
            return None
    text = "\n\n".join(text if page is None else f"--- {page_heading(page)} ---\n{text}" for page, text in pages)
    cut, truncated = capped(text, max_chars)
    return NoteText({}, cut, page_heading(wanted) if wanted else None, listed, truncated, len(text))


def parsed_text(kind: str, path: str, content: str, title: str, heading: str | None,
                max_chars: int) -> NoteText | None:
    """A board's or drawing's `content` parsed and read as Markdown (its headings: group labels, or the headings
    written above a drawing); None when `heading` is not one of them. NoteUnreadable when it no longer parses."""
    note = PARSED[kind](path, content)
    shared, body = merge_bodies(list(note.sections)) if note.sections else ((), "")
    markdown = "\n".join([*(f"{'#' * depth} {name}" for depth, name in enumerate(shared, start=1)), body])
    found = note_text(markdown, title, heading, max_chars)
    return replace(found, properties=note.properties) if found is not None else None
