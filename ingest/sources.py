"""Reading one file of any kind for sync: its content hash first (what tells an unchanged file, and a moved one,
without parsing it), then on demand its plan (chunks and manifest row).

Text kinds are read and decoded here; PDFs and images are hashed here (their bytes, streamed) and read by the
parser child (ingest.isolation), which starts only when one of them has to be parsed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vaultrag.ingest.isolation import ParseLimits, ParserProcess
from vaultrag.ingest.kinds import is_attachment, kind_of
from vaultrag.ingest.note_plan import PlannedNote, plan_note, plan_pages, text_hash
from vaultrag.ingest.tokens import TokenCounter
from vaultrag.ingest.vault import FileStat, NoteUnreadable, read_note

_HASH_BLOCK = 1 << 20


@dataclass
class Source:
    content_hash: str
    plan: Callable[[], PlannedNote]  # parse and chunk; raises NoteUnreadable or whatever a parser bug raises


class SourceReader:
    """Reads the files of one vault for one sync; `close()` ends the parser child, if one was started."""

    def __init__(self, vault: Path, max_bytes: int, limits: ParseLimits, tokens: TokenCounter, chunk_tokens: int,
                 min_chunk_tokens: int):
        self.vault = vault
        self.max_bytes = max_bytes
        self.parser = ParserProcess(limits)
        self._chunking = (tokens, chunk_tokens, min_chunk_tokens)

    def read(self, stat: FileStat) -> Source:
        """The file's content hash and how to plan it; NoteUnreadable when it cannot be read at all."""
        if not is_attachment(stat.path):
            text, warnings = read_note(self.vault, stat.path, self.max_bytes)
            content_hash = text_hash(text)
            return Source(content_hash, lambda: plan_note(stat, text, content_hash, warnings, *self._chunking))
        file = self.vault / stat.path
        content_hash = _file_hash(file, stat.path)
        return Source(content_hash, lambda: plan_pages(stat, self.parser.read(file, kind_of(stat.path), stat.path),
                                                       content_hash, *self._chunking))

    def close(self) -> None:
        self.parser.close()


def _file_hash(file: Path, shown: str) -> str:
    digest = hashlib.sha256()
    try:
        with open(file, "rb") as f:
            while block := f.read(_HASH_BLOCK):
                digest.update(block)
    except FileNotFoundError:
        raise NoteUnreadable(shown, "file no longer exists (deleted or moved since the scan)") from None
    except OSError as exc:
        raise NoteUnreadable(shown, f"cannot be read ({exc.strerror or exc})") from None
    return digest.hexdigest()[:32]
