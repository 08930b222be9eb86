"""Obsidian syntax inside one line of text: `code`, %% comments %%, wikilinks, Markdown links and #tags.

`InlineReader.rewrite` records the links and tags of a line (never from inline code) and returns the line with
its links made readable for the embedder:

    [[Note]] -> Note             [[Note|shown]] -> shown          [[Note#Part]] -> Note > Part
    [[Note#^block]] -> Note      [[#Part]] -> Part                ![[pic.png|300]] -> pic.png (a size is no alias)
    [text](Other%20note.md) -> text                               ![alt](pic.png) -> alt

Web links (`[text](https://...)`), #tags and inline code stay as written.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from urllib.parse import unquote

from vaultrag.ingest.note import Link

_WIKILINK = r"(?P<wiki_embed>!?)\[\[(?P<wiki_inner>[^\[\]\n]+)\]\]"
_MARKDOWN_LINK = (
    r"(?P<md_embed>!?)\[(?P<md_text>[^\[\]\n]*)\]"
    r"\((?:<(?P<md_angled>[^<>\n]*)>|(?P<md_dest>[^()\s]+))(?:[ \t]+\"[^\"\n]*\")?\)"
)
# Obsidian's own tag rule: '#' after start/space/'('/',' then anything but whitespace and punctuation.
_TAG = r"(?<![^\s(,])#(?P<tag>[^\s\u2000-\u206F\u2E00-\u2E7F'!\"#$%&()*+,.:;<=>?@^`{|}~\[\]\\]+)"
_INLINE = re.compile(f"{_WIKILINK}|{_MARKDOWN_LINK}|{_TAG}")
_WIKILINK_ONLY = re.compile(_WIKILINK)

_BACKTICKS = re.compile(r"`+")
_HEX_COLOUR = re.compile(r"[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8}")
_URL_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_IMAGE_SIZE = re.compile(r"\d+(?:x\d+)?")


def is_tag(name: str) -> bool:
    """Obsidian's rule: not only digits (`#1984`), and here also not a CSS hex colour (`#fff`, `#ff0000`)."""
    return not name.isdigit() and not _HEX_COLOUR.fullmatch(name)


def strip_md(target: str) -> str:
    """A link target without its `.md` extension: Obsidian's name for the note."""
    return target[:-3] if target.lower().endswith(".md") else target


def parse_wikilink(inner: str, embed: bool) -> Link:
    """The parts of `[[inner]]`; a table-escaped pipe `\\|` counts as the alias separator."""
    target_part, _, alias = inner.replace("\\|", "|").partition("|")
    target, _, subpath = target_part.partition("#")
    return Link(strip_md(target.strip()), subpath.strip() or None, alias.strip() or None, embed)


def find_wikilinks(text: str) -> list[Link]:
    """Every wikilink and embed in `text`, in order (used for frontmatter values, which have no code or tags)."""
    links = (parse_wikilink(m["wiki_inner"], bool(m["wiki_embed"])) for m in _WIKILINK_ONLY.finditer(text))
    return [link for link in links if link.target]


def readable(link: Link) -> str:
    """How a link reads in section text: its alias, else `Target > Heading` (block ids and sizes left out)."""
    if link.alias and not (link.embed and _IMAGE_SIZE.fullmatch(link.alias)):
        return link.alias
    parts = [link.target, *(link.subpath or "").split("#")]
    return " > ".join(part.strip() for part in parts if part.strip() and not part.startswith("^"))


class _BacktickRuns:
    """The runs of backticks in a line; a run opens a code span closed by the next run of the same length."""

    def __init__(self, line: str):
        self.spans = [m.span() for m in _BACKTICKS.finditer(line)]
        self._by_length: dict[int, list[int]] = defaultdict(list)
        for index, (start, end) in enumerate(self.spans):
            self._by_length[end - start].append(index)

    def closing(self, index: int) -> int | None:
        """Index of the run that closes the code span opened by run `index`, or None (the run is literal)."""
        start, end = self.spans[index]
        same_length = self._by_length[end - start]
        later = bisect_right(same_length, index)
        return same_length[later] if later < len(same_length) else None


def code_spans(line: str) -> list[tuple[int, int]]:
    """(start, end) of each inline code span in `line`, backticks included."""
    if "`" not in line:
        return []
    runs = _BacktickRuns(line)
    spans, index = [], 0
    while index < len(runs.spans):
        close = runs.closing(index)
        if close is None:
            index += 1
        else:
            spans.append((runs.spans[index][0], runs.spans[close][1]))
            index = close + 1
    return spans


def strip_comments(line: str, in_comment: bool) -> tuple[str, bool]:
    """`line` without its `%% comments %%` (a `%%` inside inline code is literal); returns (text, in_comment after)."""
    if "%%" not in line:
        return ("" if in_comment else line), in_comment
    runs = _BacktickRuns(line)
    kept: list[str] = []
    pos = run = 0
    while True:
        if in_comment:
            end = line.find("%%", pos)
            if end < 0:
                return "".join(kept), True
            pos, in_comment = end + 2, False
            continue
        while run < len(runs.spans) and runs.spans[run][0] < pos:
            run += 1
        opening = line.find("%%", pos)
        while opening >= 0 and run < len(runs.spans) and runs.spans[run][0] < opening:
            close = runs.closing(run)
            if close is None:
                run += 1
                continue
            span_end, run = runs.spans[close][1], close + 1
            if span_end > opening:
                opening = line.find("%%", span_end)
        if opening < 0:
            kept.append(line[pos:])
            return "".join(kept), False
        kept.append(line[pos:opening])
        pos, in_comment = opening + 2, True


class InlineReader:
    """Rewrites lines readably while collecting their links and tags, in order of appearance (with repeats)."""

    def __init__(self) -> None:
        self.links: list[Link] = []
        self.tags: list[str] = []

    def rewrite(self, line: str) -> str:
        """`line` with links made readable; inline code is kept verbatim and never searched."""
        if "[" not in line and "#" not in line:  # most lines: nothing to find
            return line
        pieces, pos = [], 0
        for start, end in code_spans(line):
            pieces += [self._rewrite_between(line, pos, start), line[start:end]]
            pos = end
        pieces.append(self._rewrite_between(line, pos, len(line)))
        return "".join(pieces)

    def _rewrite_between(self, line: str, start: int, end: int) -> str:
        pieces, pos = [], start
        for match in _INLINE.finditer(line, start, end):
            pieces += [line[pos : match.start()], self._replacement(match)]
            pos = match.end()
        pieces.append(line[pos:end])
        return "".join(pieces)

    def _replacement(self, match: re.Match) -> str:
        if match["tag"] is not None:
            if is_tag(match["tag"]):
                self.tags.append(match["tag"])
            return match[0]
        if match["wiki_inner"] is not None:
            link = parse_wikilink(match["wiki_inner"], bool(match["wiki_embed"]))
            if link.target:  # [[#Heading]] points into this very note: not an outgoing link
                self.links.append(link)
            return readable(link)
        destination = match["md_angled"] if match["md_angled"] is not None else match["md_dest"]
        if _URL_SCHEME.match(destination):  # a web page, mailto:, obsidian:// ...: left as written
            return match[0]
        path, _, fragment = unquote(destination).partition("#")
        link = Link(strip_md(path.strip()), fragment.strip() or None, match["md_text"].strip() or None,
                    bool(match["md_embed"]))
        if link.target:
            self.links.append(link)
        return readable(link)
