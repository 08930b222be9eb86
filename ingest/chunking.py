"""Cutting a parsed Note into chunks that fit the embedding model.

A chunk's text is what gets embedded and shown: a breadcrumb line ("Note title > H1 > H2", shortened to
"Title > … > H5 > H6" past a third of the budget), on the note's first chunk a line of aliases and tags (at most
a quarter), then the body. Every text holds at most `max_tokens` tokens and `max_chars` characters, checked on
the final text, since the model silently drops whatever passes its sequence length.

Merging: a section joins the chunk before it when the result fits and either side is under `min_tokens`; under
another first-level heading than the chunk's last section, only when both are. A merged chunk's heading is the
breadcrumb its sections share, and its body keeps each deeper heading as a Markdown heading line.

Splitting: a section too large for one chunk is cut by ingest.splitting.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from vaultrag.ingest.note import Note, Section
from vaultrag.ingest.splitting import Splitter, count_short, trim
from vaultrag.ingest.tokens import TokenCounter

# Bump when the chunks of the same note change: every file is re-chunked on the next sync (vectors of unchanged chunk
# texts are reused). 2: OCR keeps the spaces between words, so scans and images are read again; a PDF titled by
# its file name keeps the name out of its chunks' text (ingest.note_plan.plan_pages).
CHUNKER_VERSION = 2


@dataclass(frozen=True)
class Chunk:
    heading: str  # breadcrumb "Note title > H1 > H2" (just the title for text above the first heading)
    text: str  # exactly the text that gets embedded and shown: breadcrumb line, optional context line, body
    ordinal: int  # 0.. position in the note


def chunk_note(
    note: Note, counter: TokenCounter, max_tokens: int, min_tokens: int = 32, max_chars: int | None = None
) -> list[Chunk]:
    """The note's chunks, in order; never empty. Each `text` holds at most `max_tokens` tokens (as counted by
    `counter.count`, so without special tokens) and at most `max_chars` characters (default 6 * max_tokens)."""
    max_chars = 6 * max_tokens if max_chars is None else max_chars
    if max_tokens < 8 or max_chars < 32:
        raise ValueError(f"no room for a breadcrumb and a body in {max_tokens} tokens, {max_chars} characters")
    return _NoteChunker(note, counter, max_tokens, min_tokens, max_chars).chunks()

_Group = tuple[list[Section], int | None]  # sections merged into one body, and its tokens (None: not counted)


class _NoteChunker:
    def __init__(self, note: Note, counter: TokenCounter, max_tokens: int, min_tokens: int, max_chars: int):
        self.note, self.counter = note, counter
        self.max_tokens, self.min_tokens, self.max_chars = max_tokens, min_tokens, max_chars
        self.context = self._shorten(_context_line(note), max_tokens // 4, max_chars // 4)
        self.splitter = Splitter(counter, window_hint=5 * max_tokens)
        self.breadcrumb = cache(self._breadcrumb)
        self.header = cache(self._header)

    def chunks(self) -> list[Chunk]:
        sections = [Section(s.headings, trim(s.text)) for s in self.note.sections if s.text.strip()]
        chunks: list[Chunk] = []
        for headings, body, body_tokens in self._merge_small(sections):
            header, header_tokens = self.header(headings, first=not chunks)
            token_room, char_room = self.max_tokens - header_tokens, self.max_chars - len(header) - 1
            fits = body_tokens is not None and body_tokens <= token_room and len(body) <= char_room
            bodies = [body] if fits else self.splitter.cut(body, token_room, char_room)
            texts = self._joined(header, bodies[:1], token_room, char_room)
            texts += self._joined(self.header(headings, first=False)[0], bodies[1:], token_room, char_room)
            chunks += [Chunk(self.breadcrumb(headings), text, len(chunks) + i) for i, text in enumerate(texts)]
        # A note with nothing but a title (and maybe aliases and tags) is still worth finding.
        return chunks or [Chunk(self.breadcrumb(()), self.header((), first=True)[0], 0)]

    def _header(self, headings: tuple[str, ...], first: bool) -> tuple[str, int]:
        """The breadcrumb line, and on the note's first chunk the context line; with its token count."""
        text = "\n".join(filter(None, [self.breadcrumb(headings), self.context if first else ""]))
        return text, self.counter.count([text])[0]

    def _joined(self, header: str, bodies: list[str], token_room: int, char_room: int) -> list[str]:
        """Texts of `header` over each body, bodies cut for `token_room` and `char_room`. A body that overflows
        once joined to its header (a cut can change how the text around it is tokenized) is cut tighter."""
        texts = [f"{header}\n{body}" if header else body for body in bodies]
        joined = []
        for body, text, tokens in zip(bodies, texts, self.counter.count(texts)):
            if tokens <= self.max_tokens and len(text) <= self.max_chars:
                joined.append(text)
                continue
            tighter = token_room - max(1, tokens - self.max_tokens), char_room - max(0, len(text) - self.max_chars)
            if min(tighter) < 1:
                raise RuntimeError(f"cannot fit a chunk of {self.note.path!r} into {self.max_tokens} tokens")
            joined += self._joined(header, self.splitter.cut(body, *tighter), *tighter)
        return joined

    def _merge_small(self, sections: list[Section]) -> list[tuple[tuple[str, ...], str, int | None]]:
        """Sections grouped into (shared headings, body, body tokens or None when too long to count)."""
        groups: list[_Group] = []
        for section, tokens in zip(sections, count_short(self.counter, [s.text for s in sections], self.max_chars)):
            merged = groups and tokens is not None and self._merged(groups[-1], section, tokens, len(groups) == 1)
            if merged:
                groups[-1] = merged
            else:
                groups.append(([section], tokens))
        return [(*merge_bodies(members), tokens) for members, tokens in groups]

    def _merged(self, group: _Group, section: Section, tokens: int, first: bool) -> _Group | None:
        """The group with `section` added, when either is small and the result fits in one chunk; else None."""
        members, group_tokens = group
        if group_tokens is None:
            return None
        small_group, small_section = group_tokens < self.min_tokens, tokens < self.min_tokens
        same_tree = members[-1].headings[:1] == section.headings[:1]
        if not (small_group and small_section or (small_group or small_section) and same_tree):
            return None
        headings, body = merge_bodies([*members, section])
        header, header_tokens = self.header(headings, first=first)
        if len(header) + 1 + len(body) > self.max_chars:
            return None
        body_tokens = self.counter.count([body])[0]
        return ([*members, section], body_tokens) if header_tokens + body_tokens <= self.max_tokens else None

    def _breadcrumb(self, headings: tuple[str, ...]) -> str:
        """"Title > H1 > H2", or when too long "Title > … > H5 > H6" keeping the innermost headings that fit;
        without a title (a PDF named by its file: ingest.note_plan.plan_pages) just the headings."""
        max_tokens, max_chars = self.max_tokens // 3, self.max_chars // 3
        title = self.note.title
        if headings and headings[0].casefold() == title.casefold():
            headings = headings[1:]  # a first heading that repeats the file name adds nothing: "Note > Note > H2"
        root = [title] if title else []
        candidates = [" > ".join([*root, *headings])]
        candidates += [" > ".join([*root, "…", *headings[-keep:]]) for keep in range(len(headings) - 1, 0, -1)]
        for candidate, tokens in zip(candidates, count_short(self.counter, candidates, max_chars)):
            if tokens is not None and tokens <= max_tokens:
                return candidate
        # Even the title and the innermost heading are too long: give the title half, the heading what is left.
        parts = [self._shorten(title, max_tokens // 2, max_chars // 2)] if title else []
        parts += ["…"] if len(headings) > 1 else []
        return self._shorten(" > ".join([*parts, *headings[-1:]]), max_tokens, max_chars)

    def _shorten(self, text: str, max_tokens: int, max_chars: int) -> str:
        """`text`, or its longest prefix that fits with an ellipsis after it."""
        if len(text) <= max_chars and self.counter.count([text])[0] <= max_tokens:
            return text
        cut = min(self.counter.prefix_chars(text[:max_chars], max_tokens - 1), max_chars - 1)
        while True:
            short = text[:cut].rstrip() + "…"
            if cut == 0 or len(short) <= max_chars and self.counter.count([short])[0] <= max_tokens:
                return short
            cut -= max(1, cut // 4)


def _context_line(note: Note) -> str:
    parts = []
    if note.aliases:
        parts.append(f"Aliases: {', '.join(note.aliases)}.")
    if note.tags:
        parts.append("Tags: " + ", ".join(f"#{tag}" for tag in note.tags))
    return " ".join(parts)


def _common_length(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def merge_bodies(sections: list[Section]) -> tuple[tuple[str, ...], str]:
    """The headings the sections share, and their texts joined, each under its own deeper headings."""
    shared = sections[0].headings
    for section in sections[1:]:
        shared = shared[: _common_length(shared, section.headings)]
    parts, previous = [], shared
    for section in sections:
        path = section.headings
        # Heading lines from where this path leaves the previous one; a repeated heading is shown again.
        new_from = len(path) - 1 if path == previous and parts else _common_length(previous, path)
        heading_lines = [f"{'#' * (depth + 1)} {path[depth]}" for depth in range(max(new_from, len(shared)), len(path))]
        parts.append("\n".join([*heading_lines, section.text]))
        previous = path
    return shared, "\n\n".join(parts)
