"""Every link to a note is built here: obsidian:// links for people, and the daemon's http `/open/<id>` links, whose
opaque ids name no note, so a favicon service or a proxy log that sees a Sources link learns nothing about the vault.

An id is an HMAC of the note's vault-relative path under a secret kept in the data dir (`link.key`, made on first
use, readable by its owner only): a note keeps its id across restarts and model changes, and without the secret no
one can tell the id of a path or the path of an id. The daemon resolves an id by computing the ids of the indexed
notes; a note renamed since the link was made is followed through the manifest's record of renames. A section of
the note is named the same way (`?h=<id>`), against the headings its chunks were indexed under.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from vaultrag.ingest.errors import storage_error
from vaultrag.ingest.index import Index
from vaultrag.ingest.kinds import kind_of, page_heading, page_of

log = logging.getLogger(__name__)

KEY_FILE = "link.key"
ID_DIGITS = 24  # hex digits of an id: 96 bits
LINK_ID = re.compile(rf"[0-9a-f]{{{ID_DIGITS}}}")
MAX_MOVES = 50  # renames followed from an old link to where the note is now


@dataclass(frozen=True)
class NoteTarget:
    path: str
    section: str  # a heading of the note, or "" for its top


def section_of(breadcrumb: str) -> str:
    """The heading a chunk's breadcrumb ("Note > Setup > Router") ends in ("Router"); "" for the note's top."""
    inner = breadcrumb.split(" > ", 1)[1] if " > " in breadcrumb else ""
    return inner.split(" > ")[-1]


class NoteLinks:
    """Links into one vault; `base_url` is where clients reach the daemon (server.base_url)."""

    def __init__(self, vault: Path, data_dir: Path, base_url: str):
        self.vault = vault
        self.base_url = base_url.rstrip("/")
        self._key_path = data_dir / KEY_FILE
        self._key: bytes | None = None
        self._lock = threading.Lock()

    def obsidian(self, path: str, section: str = "") -> str:
        """A link that opens the note in Obsidian (the vault is named by its folder name), at `section` if given:
        a heading of a note, or a PDF's page ("Page 3", opened as Obsidian's `paper.pdf#page=3`)."""
        markdown = path.lower().endswith(".md")
        note = path[:-3] if markdown else path
        if not markdown:  # a PDF, a board, an image: only a PDF's page is a place inside it
            page = page_of(section)
            section = f"page={page}" if page is not None and kind_of(path) == "pdf" else ""
        return (f"obsidian://open?vault={quote(self.vault.name, safe='')}"
                f"&file={quote(note + ('#' + section if section else ''), safe='')}")

    def at_page(self, path: str, page: int | None) -> str:
        """`obsidian(path)`, at `page` when there is one (a PDF's page, as a search result or a citation names it)."""
        return self.obsidian(path, page_heading(page) if page else "")

    def web(self, path: str, breadcrumb: str = "") -> str:
        """An http link on the daemon (chat UIs make only those clickable) that redirects to `obsidian`, at the
        section the chunk's `breadcrumb` ends in; it carries ids only."""
        section = section_of(breadcrumb)
        url = f"{self.base_url}/open/{self._id(path)}"
        return f"{url}?h={self._id(path, section)}" if section else url

    def resolve(self, index: Index | None, link: str, section: str = "") -> NoteTarget | None:
        """The indexed note `link` names, and its section: `link` is an id from `web` (`section` then the `h` id),
        or, from links made before ids, a vault-relative path (`section` a heading). None for anything else."""
        if index is None:
            return None
        paths = index.manifest.paths()
        if not LINK_ID.fullmatch(link):
            now = _follow(link, index.manifest.moves(), paths)
            return NoteTarget(now, section) if now is not None else None
        if self._secret(create=False) is None:
            return None  # no link was ever made here
        linked = next((p for p in paths if self._id(p) == link), None)
        now = linked
        if linked is None:
            moves = index.manifest.moves()
            linked = next((p for p in moves if self._id(p) == link), None)
            now = _follow(linked, moves, paths) if linked is not None else None
        if now is None:
            return None
        return NoteTarget(now, self._section(index, now, linked, section) if section else "")

    def _section(self, index: Index, path: str, linked: str, section_id: str) -> str:
        """The heading of `path` whose id (made for the note when it was at `linked`) is `section_id`; "" if none."""
        ids = index.manifest.chunk_ids_of(path)
        headings = {section_of(hit.metadata.get("heading", "")) for hit, _ in index.store.get(ids)} if ids else set()
        return next((h for h in sorted(headings) if h and hmac.compare_digest(self._id(linked, h), section_id)), "")

    def _id(self, path: str, section: str | None = None) -> str:
        message = path if section is None else f"{path}\0{section}"
        digest = hmac.new(self._secret(create=True), message.encode("utf-8", "surrogatepass"), hashlib.sha256)
        return digest.hexdigest()[:ID_DIGITS]

    def _secret(self, create: bool) -> bytes | None:
        with self._lock:
            if self._key is None:
                self._key = _read_key(self._key_path)
            if self._key is None and create:
                self._key = _make_key(self._key_path)
            return self._key


def _follow(path: str, moves: dict[str, str], paths: set[str]) -> str | None:
    """Where the note once at `path` is now, through its renames; None when it is gone."""
    for _ in range(MAX_MOVES):
        if path in paths:
            return path
        if path not in moves:
            return None
        path = moves[path]
    return None


def _read_key(path: Path) -> bytes | None:
    try:
        key = bytes.fromhex(path.read_text().strip())
        if len(key) != 32:
            raise ValueError(f"{len(key)} bytes, not 32")
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("the link key %s is unreadable (%s): making a new one; links made before it no longer open",
                    path, exc)
        path.unlink(missing_ok=True)
        return None
    return key


def _make_key(path: Path) -> bytes:
    """A new secret in `path`, written whole before it appears (a process racing to make one reads the winner's)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as exc:
        error = storage_error(path.parent, exc)
        if error is None:
            raise
        raise error from exc
    return bytes.fromhex(path.read_text().strip())
