"""The tools' work in the daemon: each takes its validated input and returns a JSON object (the structured result)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

from pydantic import ValidationError

from vaultrag.config.settings import Settings
from vaultrag.ingest.index import Index
from vaultrag.ingest.kinds import kind_of, page_of
from vaultrag.ingest.manifest import FileRecord
from vaultrag.ingest.vault import NoteUnreadable, read_note
from vaultrag.service.search.filters import make_filters
from vaultrag.service.search.searcher import Searcher
from vaultrag.service.tools import specs
from vaultrag.service.tools.documents import PAGED, PARSED, indexed_pages, pages_text, parsed_text
from vaultrag.service.tools.errors import BadToolInput, NoteNotFound, UnknownTool
from vaultrag.service.tools.reading import note_text
from vaultrag.service.tools.related import Related, related_notes
from vaultrag.service.tools.writing import NoteWriter

RESULT_FIELDS = ("path", "title", "heading", "text", "score", "obsidian_url", "tags")


class VaultTools:
    """`on_written(path)` is called after each write and says whether the note is in the index now."""

    def __init__(self, settings: Settings, searcher: Searcher, on_written: Callable[[str], bool] = lambda _: False):
        self.vault = settings.vault_path
        self.specs = {spec.name: spec for spec in specs.enabled_tools(settings.mcp.allow_writes,
                                                                      settings.mcp.write_folder)}
        self._searcher = searcher
        self._max_chars = settings.mcp.max_note_chars
        self._max_bytes = settings.vault.max_bytes
        self._writer = NoteWriter(self.vault, settings.mcp.write_folder, settings.mcp.allow_writes)
        self._on_written = on_written

    def call(self, name: str, arguments: dict) -> dict:
        """Run tool `name` on raw `arguments`; BadToolInput names a bad one."""
        spec = self.specs.get(name)
        if spec is None and name in specs.WRITING_TOOLS:
            self._writer.check_enabled()
        if spec is None:
            raise UnknownTool(f"no tool {name!r}; the tools are: {', '.join(self.specs)}")
        try:
            given = spec.input.model_validate(arguments)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise BadToolInput(f"{'.'.join(map(str, first['loc'])) or 'arguments'}: {first['msg']}") from None
        return getattr(self, name)(given)

    def search_notes(self, a: specs.SearchNotesInput) -> dict:
        filters = make_filters(a.tags, a.path_prefix, a.modified_after)
        results = self._searcher.search(a.query, a.k, a.mode, filters)
        return {"results": [{key: getattr(r, key) for key in RESULT_FIELDS} for r in results]}

    def read_note(self, a: specs.ReadNoteInput) -> dict:
        record = self._searcher.read(lambda index: self._indexed(index, a.path))
        kind = kind_of(a.path)
        if kind in PAGED:  # read as indexed: PDFium runs only in the parser child
            pages = self._searcher.read(lambda index: indexed_pages(index, a.path, len(record.chunk_ids)))
            note = pages_text(pages, a.heading, self._max_chars)
        else:
            try:
                content, _ = read_note(self.vault, a.path, self._max_bytes)
                note = (parsed_text(kind, a.path, content, record.title, a.heading, self._max_chars) if kind in PARSED
                        else note_text(content, record.title, a.heading, self._max_chars))
            except NoteUnreadable as exc:
                raise NoteNotFound(f"note {a.path!r} cannot be read now: {exc.reason}") from None
        if note is None:
            raise NoteNotFound(f"note {a.path!r} has no heading {a.heading!r}; read it without `heading` to see "
                               "its headings")
        link = self._searcher.links.at_page(a.path, page_of(note.heading or ""))  # a PDF's page read: opens there
        return {"path": a.path, "title": record.title, "properties": note.properties, "tags": record.tags,
                "heading": note.heading, "text": note.text, "truncated": note.truncated, "chars": note.chars,
                "headings": note.headings, "obsidian_url": link}

    def related_notes(self, a: specs.RelatedNotesInput) -> dict:
        def related(index: Index | None) -> tuple[list[Related], dict[str, str]]:
            self._indexed(index, a.path)
            found = related_notes(index, a.path, a.k)
            return found, {r.path: rec.title for r in found if (rec := index.manifest.record(r.path))}

        found, titles = self._searcher.read(related)
        return {"path": a.path, "related": [
            {"path": r.path, "title": titles.get(r.path, ""), "score": round(r.score, 4),
             "similarity": round(r.similarity, 4), "links": r.links, "obsidian_url": self._searcher.links.obsidian(r.path)}
            for r in found]}

    def list_tags(self, a: specs.ListTagsInput) -> dict:
        counts = self._searcher.read(lambda index: index.manifest.tag_counts() if index else {})
        return {"tags": [{"tag": tag, "notes": n} for tag, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]}

    def recent_notes(self, a: specs.RecentNotesInput) -> dict:
        prefix = a.path_prefix.strip().lstrip("/")
        records = self._searcher.read(lambda index: index.manifest.recent(a.n, prefix) if index else [])
        return {"notes": [{"path": r.path, "title": r.title, "tags": r.tags, "modified": _iso(r.mtime_ns),
                           "obsidian_url": self._searcher.links.obsidian(r.path)} for r in records]}

    def append_to_note(self, a: specs.WriteInput) -> dict:
        return self._written(self._writer.append(a.path, a.text))

    def create_note(self, a: specs.WriteInput) -> dict:
        return self._written(self._writer.create(a.path, a.text))

    def _written(self, path: str) -> dict:
        return {"path": path, "indexed": self._on_written(path), "obsidian_url": self._searcher.links.obsidian(path)}

    @staticmethod
    def _indexed(index: Index | None, path: str) -> FileRecord:
        """The index's record of `path` (called inside `Searcher.read`); NoteNotFound when it has none."""
        record = index.manifest.record(path) if index else None
        if record is None:
            raise NoteNotFound(f"no note {path!r} in the index; paths are as search_notes and recent_notes return "
                               "them, e.g. \"Folder/Note.md\"")
        return record


def _iso(mtime_ns: int) -> str:
    return datetime.fromtimestamp(mtime_ns / 1e9, timezone.utc).astimezone().isoformat(timespec="seconds")
