"""A changed file read into what sync writes: its chunks with ids and metadata, and its manifest row.

Text kinds (notes, Excalidraw drawings, Canvas boards) are parsed into a `Note` and chunked; a PDF's or image's
pages, read by the parser child, are chunked page by page, so no chunk crosses a page and each carries its page
number (a breadcrumb "Title > Page 3" and a `page` in its metadata)."""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from dataclasses import dataclass

from vaultrag.ingest.canvas import parse_canvas
from vaultrag.ingest.chunking import Chunk, chunk_note
from vaultrag.ingest.excalidraw import parse_excalidraw
from vaultrag.ingest.kinds import kind_of, page_heading
from vaultrag.ingest.manifest import FileRecord
from vaultrag.ingest.markdown import PARSER_VERSION, parse_note
from vaultrag.ingest.note import Note, Section
from vaultrag.ingest.store import StoredChunk
from vaultrag.ingest.tokens import TokenCounter
from vaultrag.ingest.vault import FileStat, NoteUnreadable

log = logging.getLogger(__name__)

_PARSERS = {"note": parse_note, "excalidraw": parse_excalidraw, "canvas": parse_canvas}
NO_TEXT_LAYER = "scanned PDF, no text layer: install vaultrag[ocr] to read it"


@dataclass
class PlannedNote:
    """A changed note read and chunked, ready to be embedded and written with its manifest row."""

    stat: FileStat
    content_hash: str
    title: str
    aliases: list[str]
    tags: list[str]
    links: list[str]
    warnings: list[str]
    chunks: list[StoredChunk]


def text_hash(text: str) -> str:
    """The content hash sync compares and stores, of a note's text or a chunk's."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def plan_note(stat: FileStat, text: str, content_hash: str, warnings: list[str], tokens: TokenCounter,
              chunk_tokens: int, min_chunk_tokens: int) -> PlannedNote:
    """Parse and chunk a note read from disk (`warnings`: what reading it found). Raises whatever a parser bug
    raises: the caller turns that into a problem of this one note."""
    note = _PARSERS.get(kind_of(stat.path), parse_note)(stat.path, text)
    chunks = chunk_note(note, tokens, chunk_tokens, min_chunk_tokens)
    for warning in note.warnings:
        log.warning("%s: %s", stat.path, warning)
    return PlannedNote(stat, content_hash, note.title, list(note.aliases), list(note.tags),
                       sorted({link.target for link in note.links}),
                       list(warnings) + list(note.warnings), _stored_chunks(stat, note.title, note.tags, chunks))


def plan_pages(stat: FileStat, reading: dict, content_hash: str, tokens: TokenCounter, chunk_tokens: int,
               min_chunk_tokens: int) -> PlannedNote:
    """Chunk a PDF's or image's pages as the parser child read them (ingest.isolation.ParserProcess.read's dict).
    A file with no page read at all (no text layer and no OCR, or every page over the OCR budget) is a NoteUnreadable,
    never an empty entry.

    A title that is only the file name stays out of the embedded text (breadcrumb "Page 2", not "report.pdf > Page
    2"): the same PDF renamed or moved has the same chunk texts, so its vectors are reused, as a metadata title
    allows too. The name is still the title in each chunk's metadata and breadcrumb shown ("report.pdf > Page 2"),
    and it is in the BM25 index's names, so a question that names the file finds it."""
    name = stat.path.rsplit("/", 1)[-1]
    title = reading["title"] or name
    chunks: list[Chunk] = []
    pages: list[int | None] = []
    single = kind_of(stat.path) == "image"
    for number, text in enumerate(reading["pages"], start=1):
        if text.strip():
            headings = () if single else (page_heading(number),)
            page = Note(stat.path, reading["title"], sections=(Section(headings, text),))
            for chunk in chunk_note(page, tokens, chunk_tokens, min_chunk_tokens):
                shown = chunk.heading if reading["title"] else " > ".join(filter(None, [name, chunk.heading]))
                chunks.append(Chunk(shown, chunk.text, len(chunks)))
                pages.append(None if single else number)
    scanned, slow = reading["scanned"], reading["slow"]
    if not chunks and (scanned or slow):
        raise NoteUnreadable(stat.path, NO_TEXT_LAYER if scanned else _slow_pages(slow))
    warnings = []
    if scanned:
        warnings.append(f"{len(scanned)} of {len(reading['pages'])} pages have no text layer (scanned): install "
                        "vaultrag[ocr] to read them")
    if slow:
        warnings.append(f"{len(slow)} of {len(reading['pages'])} pages skipped: " + _slow_pages(slow))
    if not chunks:
        warnings.append("no text found")
    for warning in warnings:
        log.warning("%s: %s", stat.path, warning)
    return PlannedNote(stat, content_hash, title, [name] if name != title else [], [], [], warnings,
                       _stored_chunks(stat, title, (), chunks, pages))


def _slow_pages(pages: list[int]) -> str:
    shown = ", ".join(map(str, pages[:10])) + (", ..." if len(pages) > 10 else "")
    return (f"OCR took longer than vault.ocr_page_timeout_s on page{'s' if len(pages) > 1 else ''} {shown}; raise it "
            "to read them (the PDF is read again when it changes)")


def problem_kind(reason: str) -> str:
    return "skipped" if reason.startswith(("binary", "larger than")) else "failed"


def _stored_chunks(stat: FileStat, title: str, tags: tuple[str, ...], chunks: list[Chunk],
                   pages: list[int | None] | None = None) -> list[StoredChunk]:
    """Chunk ids are a function of path, text and repeat count: the same file state always gives the same ids."""
    seen: Counter[str] = Counter()
    stored = []
    for chunk, page in zip(chunks, pages or [None] * len(chunks)):
        content_hash = text_hash(chunk.text)
        chunk_id = hashlib.sha256(f"{stat.path}\0{content_hash}\0{seen[content_hash]}".encode("utf-8", "surrogatepass")).hexdigest()[:32]
        seen[content_hash] += 1
        metadata = {"path": stat.path, "title": title, "heading": chunk.heading, "content_hash": content_hash,
                    "ordinal": chunk.ordinal, "modified": stat.mtime_ns // 1_000_000_000}
        if tags:
            metadata["tags"] = list(tags)
        if page is not None:
            metadata["page"] = page
        stored.append(StoredChunk(chunk_id, chunk.text, metadata))
    return stored


def file_record(planned: PlannedNote, state: str) -> FileRecord:
    return FileRecord(path=planned.stat.path, size=planned.stat.size, mtime_ns=planned.stat.mtime_ns,
                      content_hash=planned.content_hash, state=state, parser_version=PARSER_VERSION,
                      chunk_ids=[c.id for c in planned.chunks],
                      chunk_hashes=[c.metadata["content_hash"] for c in planned.chunks], title=planned.title,
                      tags=planned.tags, links=planned.links, warnings=planned.warnings)
