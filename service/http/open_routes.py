"""`GET /open/<path>`: an http link (clickable in chat UIs) that redirects into Obsidian, for notes in the vault only."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from vaultrag.service.http.errors import ApiError
from vaultrag.service.search.searcher import obsidian_url

router = APIRouter()


def note_in_vault(vault: Path, path: str) -> Path:
    """The note's file, or a 404 for anything outside the vault, missing, or not a note (no traversal, no links out)."""
    rel = PurePosixPath(path)
    if not path or rel.is_absolute() or ".." in rel.parts or "\\" in path or "\x00" in path:
        raise ApiError(404, f"no note {path!r} in the vault", "invalid_request_error", "not_found")
    try:
        target = (vault / rel).resolve()
        found = target.is_relative_to(vault.resolve()) and target.is_file() and target.suffix.lower() == ".md"
    except (OSError, ValueError):  # a name too long for the file system, a symlink loop...
        found = False
    if not found:
        raise ApiError(404, f"no note {path!r} in the vault", "invalid_request_error", "not_found")
    return target


@router.get("/open/{path:path}", include_in_schema=False)
async def open_note(path: str, request: Request, heading: str = "") -> RedirectResponse:
    vault: Path = request.app.state.vault
    note_in_vault(vault, path)
    url = obsidian_url(vault, path) + (quote("#" + heading, safe="") if heading else "")
    return RedirectResponse(url, status_code=307)
