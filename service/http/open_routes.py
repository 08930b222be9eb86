"""`GET /open/<id>`: the http link in answers (chat UIs make only those clickable) that redirects into Obsidian, for
notes in the index only; the id names no note (service.search.links)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from vaultrag.service.http.errors import ApiError

router = APIRouter()


def on_disk(vault: Path, path: str) -> bool:
    """Whether the indexed `path` is still a file inside the vault (no traversal, no symlink out): a note, or a PDF,
    board or image the index holds (`resolve` only names indexed files)."""
    rel = PurePosixPath(path)
    if rel.is_absolute() or ".." in rel.parts or "\\" in path or "\x00" in path:
        return False
    try:
        target = (vault / rel).resolve()
        return target.is_relative_to(vault.resolve()) and target.is_file()
    except (OSError, ValueError):  # a name too long for the file system, a symlink loop...
        return False


@router.get("/open/{link:path}", include_in_schema=False)
def open_note(link: str, request: Request, h: str = "", heading: str = "") -> RedirectResponse:
    """`h` is a section's id; `heading` a section's name, in links made before ids (`/open/Folder/Note.md`)."""
    searcher = request.app.state.searcher
    target = searcher.read(lambda index: searcher.links.resolve(index, link, h or heading))
    if target is None or not on_disk(request.app.state.vault, target.path):
        raise ApiError(404, f"no note {link!r} in the vault's index: it was deleted or moved, or it is not a note "
                            "vaultrag indexes", "invalid_request_error", "not_found")
    return RedirectResponse(searcher.links.obsidian(target.path, target.section), status_code=307)
