"""An Obsidian Excalidraw drawing (`*.excalidraw.md`) read as a note: the words on the drawing (the plugin's
"Text Elements" list) and whatever is written above the drawing data, with the links of its "Embedded Files" and
"Element Links". The drawing itself (`## Drawing`, compressed or plain JSON, in a `%%` comment or not) is cut
before parsing: it is never embedded, nor is the plugin's "switch to Excalidraw view" banner.
"""

from __future__ import annotations

import re

from vaultrag.ingest.markdown import parse_note
from vaultrag.ingest.note import Note, Section

SUFFIX = ".excalidraw.md"
_DRAWING = re.compile(r"^(?:%%[ \t]*\n)?#{1,6}[ \t]+Drawing[ \t]*$", re.MULTILINE | re.IGNORECASE)
_BANNER = re.compile(r"^==⚠.*$", re.MULTILINE)
_WRAPPERS = {"excalidraw data", "text elements"}  # headings the plugin writes around the words: not breadcrumbs
_LINK_LISTS = {"embedded files", "element links"}  # lines of "id: [[target]]": links, not text


def parse_excalidraw(path: str, text: str) -> Note:
    """The drawing at vault-relative `path` whose file holds `text`. Never fails: a file without the plugin's
    sections is read as a plain note."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    drawing = _DRAWING.search(text)
    note = parse_note(path, _BANNER.sub("", text[: drawing.start()] if drawing else text))
    sections = []
    for section in note.sections:
        names = [h.casefold() for h in section.headings]
        if _LINK_LISTS & set(names):
            continue
        sections.append(Section(tuple(h for h, n in zip(section.headings, names) if n not in _WRAPPERS), section.text))
    name = path.rsplit("/", 1)[-1]
    title = name[: -len(SUFFIX)] if name.lower().endswith(SUFFIX) else note.title
    return Note(path=path, title=title, properties=note.properties, tags=note.tags, aliases=note.aliases,
                links=note.links, sections=tuple(sections), warnings=note.warnings)
