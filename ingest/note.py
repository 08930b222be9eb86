"""What a parsed note holds: the Obsidian parser's output and the chunker's input."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Link:
    """One outgoing wikilink or embed, as written in the note.

    `[[Folder/Note#Heading|shown]]` -> target="Folder/Note", subpath="Heading", alias="shown", embed=False.
    `![[diagram.png]]` -> target="diagram.png", embed=True. Block references keep their caret: subpath="^abc123".
    """

    target: str
    subpath: str | None = None
    alias: str | None = None
    embed: bool = False


@dataclass(frozen=True)
class Section:
    """The text under one heading, up to the next heading of any level.

    `headings` is the path of headings above the text, outermost first: ("Setup", "On Linux"). Text before the
    first heading has `headings == ()`. `text` is Markdown with Obsidian comments removed and callouts rewritten
    to keep their type; it never contains the heading line itself.
    """

    headings: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class Note:
    """A Markdown note, parsed. `path` is relative to the vault root, with forward slashes."""

    path: str
    title: str
    properties: dict = field(default_factory=dict)
    raw_frontmatter: str | None = None  # the frontmatter text kept as-is when its YAML is invalid
    tags: tuple[str, ...] = ()  # without '#', frontmatter first, then inline, each once, e.g. "project/alpha"
    aliases: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()
    sections: tuple[Section, ...] = ()
    warnings: tuple[str, ...] = ()  # problems a person should know about; the note is still indexed
