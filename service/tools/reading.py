"""A note as `read_note` returns it: properties, Markdown body or one section of it, cut to a size with a marker."""

from __future__ import annotations

import re
from dataclasses import dataclass

from vaultrag.ingest.properties import read_frontmatter, split_frontmatter

_HEADING = re.compile(r" {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_WIKILINK = re.compile(r"\[\[([^\]|]*)(?:\|([^\]]*))?\]\]")
_MDLINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_DECORATION = re.compile(r"[*_=~`]")


@dataclass(frozen=True)
class Heading:
    line: int  # index of the heading's line in the body
    level: int
    path: tuple[str, ...]  # the headings above it and itself, as written (outermost first)


@dataclass(frozen=True)
class NoteText:
    properties: dict
    text: str
    heading: str | None  # the section read ("Setup > On Linux"), None for the whole note
    headings: list[str]  # every heading of the note, as paths "Setup > On Linux"
    truncated: bool
    chars: int  # the length of the text before any cut


def outline(lines: list[str]) -> list[Heading]:
    """The ATX headings of a Markdown body (not those inside code blocks)."""
    found: list[Heading] = []
    fence = ""
    stack: list[tuple[int, str]] = []
    for n, line in enumerate(lines):
        opener = _FENCE.match(line)
        if fence:  # only a bare fence of the same kind, at least as long, closes the block
            if opener and opener[1][0] == fence[0] and len(opener[1]) >= len(fence) and not line.strip(" \t" + fence[0]):
                fence = ""
            continue
        if opener:
            fence = opener[1]
            continue
        heading = _HEADING.fullmatch(line)
        if heading:
            level = len(heading[1])
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading[2].strip()))
            found.append(Heading(n, level, tuple(name for _, name in stack)))
    return found


def _plain(name: str) -> str:
    """A heading as compared with what a caller wrote: link text only, no decoration or case."""
    name = _WIKILINK.sub(lambda m: m[2] or m[1], name)
    name = _MDLINK.sub(lambda m: m[1], name)
    return " ".join(_DECORATION.sub("", name).split()).casefold()


def _find(headings: list[Heading], wanted: str, title: str) -> Heading | None:
    """The first heading whose path ends with `wanted` ("A > B"), which may start with the note's title."""
    parts = [_plain(p) for p in wanted.split(" > ") if p.strip()]
    if parts and len(parts) > 1 and parts[0] == _plain(title):
        parts = parts[1:]
    for heading in headings:
        path = [_plain(p) for p in heading.path]
        if parts and path[-len(parts):] == parts:
            return heading
    return None


def note_text(content: str, title: str, heading: str | None, max_chars: int) -> NoteText | None:
    """The note's `content` read as `read_note` returns it; None when `heading` is not one of its headings."""
    split = split_frontmatter(content)
    front = read_frontmatter(split.frontmatter) if split.frontmatter is not None else None
    properties = front.properties if front is not None else {}
    lines = split.body.split("\n")
    headings = outline(lines)
    found = None
    text = split.body
    if heading is not None and heading.strip():
        found = _find(headings, heading, title)
        if found is None:
            return None
        end = next((h.line for h in headings if h.line > found.line and h.level <= found.level), len(lines))
        text = "\n".join(lines[found.line:end])
    text = text.strip("\n")
    cut, truncated = capped(text, max_chars)
    return NoteText(properties, cut, " > ".join(found.path) if found else None,
                    [" > ".join(h.path) for h in headings], truncated, len(text))


def capped(text: str, max_chars: int) -> tuple[str, bool]:
    """`text`, or its first `max_chars` characters (cut at a line end when one is near) and a marker."""
    if len(text) <= max_chars:
        return text, False
    cut = text.rfind("\n", 0, max_chars)
    cut = cut if cut > max_chars * 0.8 else max_chars
    marker = (f"\n\n[truncated: {cut} of {len(text)} characters shown; read one section at a time with the "
              "`heading` argument (the note's headings are listed in `headings`)]")
    return text[:cut] + marker, True
