"""The only writes into the vault: new notes and appends, inside one folder (mcp.write_folder), never overwriting."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from vaultrag.service.tools.errors import NoteExists, NoteNotFound, WriteRefused, WritesDisabled


class NoteWriter:
    def __init__(self, vault: Path, folder: str, enabled: bool):
        self.vault = vault
        self.folder = folder  # "Inbox/": vault-relative, validated by the settings
        self.enabled = enabled

    def create(self, path: str, text: str) -> str:
        """Write a new note; its vault-relative path is returned. An existing file is never touched."""
        rel, target = self._target(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        self._inside(target.parent, path)  # a folder created through a link out of the vault is caught here
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
        except FileExistsError:
            raise NoteExists(f"{rel!r} exists already and writes never overwrite: use append_to_note, or create "
                             "the note under another name") from None
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(_ending_in_newline(text))
        return rel

    def append(self, path: str, text: str) -> str:
        """Add `text` at the end of an existing note, on a line of its own."""
        rel, target = self._target(path)
        if not target.is_file():
            raise NoteNotFound(f"no note {rel!r} to append to; create_note makes new notes")
        with open(target, "rb+") as file:
            size = file.seek(0, os.SEEK_END)
            if size:
                file.seek(size - 1)
            ends_open = bool(size) and file.read(1) != b"\n"
            file.write((b"\n" if ends_open else b"") + _ending_in_newline(text).encode("utf-8"))
        return rel

    def check_enabled(self) -> None:
        if not self.enabled:
            raise WritesDisabled("writing to the vault is off; the user can allow it inside one folder with "
                                 "mcp.allow_writes = true and mcp.write_folder")

    def _target(self, path: str) -> tuple[str, Path]:
        self.check_enabled()
        rel = path.strip()
        rel = rel if rel.lower().endswith(".md") else rel + ".md"
        parts = PurePosixPath(rel).parts
        bad = ("\\" in rel or "\x00" in rel or rel.startswith("/") or any(ord(c) < 32 for c in rel)
               or any(part in (".", "..") or part.startswith(".") for part in parts) or "//" in rel)
        if bad or not rel.startswith(self.folder) or len(parts) < 2:
            raise WriteRefused(f"{path!r} is not a note path inside {self.folder!r}: notes can only be written "
                               f"there, e.g. \"{self.folder}Chat summary.md\" (no '..', no dot-folders)")
        target = self.vault / rel
        self._inside(target, path)
        return rel, target

    def _inside(self, target: Path, path: str) -> None:
        """Refuse a target that symbolic links lead out of the write folder."""
        folder = (self.vault / self.folder).resolve()
        if not target.resolve().is_relative_to(folder) and target.resolve() != folder:
            raise WriteRefused(f"{path!r} leads out of {self.folder!r} (through a link); nothing was written")


def _ending_in_newline(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"
