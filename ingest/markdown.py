"""Turn an Obsidian note's text into a `Note`: title, properties, tags, links and heading sections, never failing.

The body is read line by line: code fences are kept verbatim, `%% comments %%` removed, ATX headings split it into
sections and callouts are rewritten as plain text (`> [!tip]- Title` -> `Tip: Title`, `> ` markers dropped).
Inline syntax (links, tags, inline code) is handled by `ingest.inline`, the frontmatter by `ingest.properties`.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

from vaultrag.ingest.properties import Frontmatter, read_frontmatter, split_frontmatter
from vaultrag.ingest.inline import InlineReader, strip_comments, strip_md
from vaultrag.ingest.note import Note, Section

PARSER_VERSION = 1  # bump whenever the same text parses differently: stored notes are then parsed again

_FENCE = re.compile(r"(?P<quotes>[ \t]*(?:>[ \t]?)*)[ \t]*(?P<fence>`{3,}|~{3,})(?P<info>.*)")
_QUOTE_DEPTH = re.compile(r"(?:[ \t]*>)*")
_HEADING = re.compile(r" {0,3}(#{1,6})[ \t]+(.*)")
_DECORATION = re.compile(r"\*\*|__|~~|==|`|(?<![\w*])[*_](?=\S)|(?<=\S)[*_](?![\w*])")
_CALLOUT = re.compile(r" {0,3}>[ \t]?\[!([^\]\n]+)\][+-]?[ \t]*(.*)")
_QUOTE_MARKER = re.compile(r" {0,3}> ?")
_BLOCK_ID = re.compile(r"[A-Za-z0-9-]+[ \t]*")
_MAX_CALLOUT_DEPTH = 16


def parse_note(path: str, text: str) -> Note:
    """The note at vault-relative `path` whose decoded content is `text`. Problems become warnings, never errors."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    split = split_frontmatter(text)
    front = read_frontmatter(split.frontmatter) if split.frontmatter is not None else Frontmatter({})
    reader = InlineReader()
    warnings = [*split.warnings, *front.warnings]
    sections = _sections(split.body, split.body_first_line, reader, warnings)
    if front.raw is not None and front.raw.strip():
        sections = _with_raw_frontmatter(sections, front.raw.strip("\n"))
    return Note(
        path=path,
        title=strip_md(PurePosixPath(path).name),
        properties=front.properties,
        raw_frontmatter=front.raw,
        tags=_unique_tags([*front.tags, *reader.tags]),
        aliases=front.aliases,
        links=tuple(dict.fromkeys([*front.links, *reader.links])),
        sections=tuple(sections),
        warnings=tuple(warnings),
    )


def _unique_tags(tags: list[str]) -> tuple[str, ...]:
    """Each tag once, compared without letter case, as first written."""
    first_spelling: dict[str, str] = {}
    for tag in tags:
        first_spelling.setdefault(tag.casefold(), tag)
    return tuple(first_spelling.values())


def _with_raw_frontmatter(sections: list[Section], raw: str) -> list[Section]:
    """Invalid frontmatter stays searchable: it opens the text before the first heading."""
    if sections and sections[0].headings == ():
        return [Section((), f"{raw}\n\n{sections[0].text}"), *sections[1:]]
    return [Section((), raw), *sections]


@dataclass(frozen=True)
class _Fence:
    """A line of 3+ backticks or tildes, possibly inside `quotes` levels of `>` quotes."""

    quotes: int
    char: str
    length: int
    bare: bool  # nothing follows the fence characters, so it can close a block

    def closes(self, opener: _Fence) -> bool:
        return self.bare and self.char == opener.char and self.length >= opener.length


def _fence(line: str) -> _Fence | None:
    if "```" not in line and "~~~" not in line:
        return None
    match = _FENCE.fullmatch(line)
    if match is None or (match["fence"][0] == "`" and "`" in match["info"]):  # ```a``` is inline code
        return None
    return _Fence(match["quotes"].count(">"), match["fence"][0], len(match["fence"]), not match["info"].strip())


class _Closers:
    """The unquoted fences that could close a code block, so each block's end is found without rescanning."""

    def __init__(self, fences: list[_Fence | None]):
        self._lines: dict[str, list[int]] = {"`": [], "~": []}
        self._lengths: dict[str, list[int]] = {"`": [], "~": []}
        for index, fence in enumerate(fences):
            if fence is not None and fence.bare and fence.quotes == 0:
                self._lines[fence.char].append(index)
                self._lengths[fence.char].append(fence.length)
        self._longest_from = {char: _suffix_max(lengths) for char, lengths in self._lengths.items()}

    def after(self, index: int, opener: _Fence) -> int | None:
        """The line of the first fence after line `index` that closes `opener`, or None."""
        lines, lengths = self._lines[opener.char], self._lengths[opener.char]
        candidate = bisect_right(lines, index)
        if candidate == len(lines) or self._longest_from[opener.char][candidate] < opener.length:
            return None
        while lengths[candidate] < opener.length:
            candidate += 1
        return lines[candidate]


def _suffix_max(values: list[int]) -> list[int]:
    longest, running = [0] * len(values), 0
    for index in range(len(values) - 1, -1, -1):
        running = max(running, values[index])
        longest[index] = running
    return longest


def _code_block_end(lines: list[str], fences: list[_Fence | None], closers: _Closers, start: int) -> int | None:
    """Last line of the code block opened at `start`, or None when an unquoted fence is never closed.

    A fence inside a quote or callout ends with its closing fence or, at the latest, with the quote.
    """
    opener = fences[start]
    if opener.quotes == 0:
        return closers.after(start, opener)
    for index in range(start + 1, len(lines)):
        fence = fences[index]
        if fence is not None and fence.quotes == opener.quotes and fence.closes(opener):
            return index
        if _QUOTE_DEPTH.match(lines[index])[0].count(">") < opener.quotes:
            return index - 1
    return len(lines) - 1


def _lines(body: str, first_line: int, warnings: list[str]) -> Iterator[tuple[int, str, bool]]:
    """The body as (heading level or 0, text, is code) per line, comments removed."""
    lines = body.split("\n")
    fences = [_fence(line) for line in lines]
    closers = _Closers(fences)
    in_comment, comment_line, index = False, 0, 0
    while index < len(lines):
        line = lines[index]
        if fences[index] is not None and not in_comment:
            end = _code_block_end(lines, fences, closers, index)
            if end is not None:
                for code_line in lines[index : end + 1]:
                    yield 0, code_line, True
                index = end + 1
                continue
            warnings.append(f"unclosed code fence at line {first_line + index}; treated as text")
        text, still_in_comment = strip_comments(line, in_comment)
        if still_in_comment and (not in_comment or "%%" in line):
            comment_line = first_line + index
        was_in_comment, in_comment = in_comment, still_in_comment
        index += 1
        if not text.strip() and (line.strip() or was_in_comment):
            continue  # the line held only (part of) a comment
        heading = _HEADING.fullmatch(text) if text.lstrip(" ").startswith("#") else None
        yield (len(heading[1]), heading[2], False) if heading else (0, text, False)
    if in_comment:
        warnings.append(f"unclosed %% comment at line {comment_line} hides the rest of the note")


def _sections(body: str, first_line: int, reader: InlineReader, warnings: list[str]) -> list[Section]:
    """The body split at its headings; `reader` collects links and tags in document order."""
    sections: list[Section] = []
    open_headings: list[tuple[int, str]] = []  # (level, name) of the headings around the current line
    pending: list[tuple[str, bool]] = []

    def flush() -> None:
        rendered = [_render(line, is_code, reader) for line, is_code in _rewrite_callouts(pending)]
        text = "\n".join(_without_blank_edges(rendered))
        if text:
            sections.append(Section(tuple(name for _, name in open_headings if name), text))
        pending.clear()

    for level, text, is_code in _lines(body, first_line, warnings):
        if not level:
            pending.append((text, is_code))
            continue
        flush()
        name = _heading_name(reader.rewrite(_without_closing_hashes(text)))
        while open_headings and open_headings[-1][0] >= level:
            open_headings.pop()
        open_headings.append((level, name))
    flush()
    return sections


def _without_closing_hashes(text: str) -> str:
    """`Title ##` -> `Title`; `C#` keeps its '#', which is glued to the text."""
    content = text.rstrip(" \t").rstrip("#")
    if content == text.rstrip(" \t"):
        return text
    return content.rstrip(" \t") if not content or content[-1] in " \t" else text


def _heading_name(text: str) -> str:
    """Heading text without Markdown decoration (`**`, `_`, `==`, backticks) and with single spaces."""
    return " ".join(_DECORATION.sub("", text).split())


def _render(line: str, is_code: bool, reader: InlineReader) -> str:
    return line if is_code else _without_block_id(reader.rewrite(line))


def _without_block_id(text: str) -> str:
    """`text ^abc-1` -> `text`: a block id ends a line and Obsidian hides it."""
    before, caret, block_id = text.rpartition("^")
    if caret and _BLOCK_ID.fullmatch(block_id) and (not before or before[-1] in " \t"):
        return before.rstrip(" \t")
    return text


def _without_blank_edges(lines: list[str]) -> list[str]:
    """`lines` without the blank lines at either end."""
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def _rewrite_callouts(lines: list[tuple[str, bool]], depth: int = 0) -> list[tuple[str, bool]]:
    """Callouts as plain text: `> [!tip]- Title` -> `Tip: Title` (or `Tip:`), then its lines without `> `.

    Nested callouts are rewritten the same way, up to a sane depth; plain quotes are left as they are.
    """
    rewritten: list[tuple[str, bool]] = []
    index = 0
    while index < len(lines):
        text, is_code = lines[index]
        callout = None if is_code or depth >= _MAX_CALLOUT_DEPTH or ">" not in text else _CALLOUT.fullmatch(text)
        index += 1
        if callout is None:
            rewritten.append((text, is_code))
            continue
        kind, title = callout[1].strip(), callout[2].strip()
        label = kind[:1].upper() + kind[1:].lower()
        rewritten.append((f"{label}: {title}" if title else f"{label}:", False))
        inside: list[tuple[str, bool]] = []
        while index < len(lines) and _QUOTE_MARKER.match(lines[index][0]):
            inside.append((_QUOTE_MARKER.sub("", lines[index][0], count=1), lines[index][1]))
            index += 1
        rewritten += _rewrite_callouts(inside, depth + 1)
    return rewritten
