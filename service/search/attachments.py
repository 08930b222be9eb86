"""What a search result says about a PDF or an image beyond its text: the notes that embed or link it
(`![[paper.pdf]]`, `[[Attachments/paper.pdf#page=3]]`), read from the manifest's links when the result is made,
so a note that starts linking a PDF never makes the PDF's chunks stale."""

from __future__ import annotations

from vaultrag.ingest.index import Index
from vaultrag.ingest.kinds import is_attachment


def linked_from(index: Index, path: str) -> list[str]:
    """The notes linking to the attachment at `path` (by file name or vault path), [] for a note."""
    if not is_attachment(path):
        return []
    return index.manifest.linking_to({path.rsplit("/", 1)[-1].casefold(), path.casefold()})
