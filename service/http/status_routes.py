"""Endpoints for people and scripts: `/health`, `/api/status`, `/api/reindex` and the status page at `/`."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

router = APIRouter()
STATUS_PAGE = Path(__file__).with_name("status_page.html")


# A vault-relative path: not absolute, no ".." segment (as a JSON Schema pattern, for the OpenAPI schema).
_SEGMENT = r"(?:[^/.\x00][^/\x00]*|\.[^/.\x00][^/\x00]*|\.\.[^/\x00]+|\.)"
RELATIVE_PATH = rf"^(?:{_SEGMENT}/)*{_SEGMENT}$"


class ReindexRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    path: str | None = Field(default=None, json_schema_extra={"pattern": RELATIVE_PATH})

    @field_validator("path")
    @classmethod
    def _relative(cls, path):
        if path is not None and not re.fullmatch(RELATIVE_PATH, path):
            raise ValueError(f"{path!r} must be a note's path relative to the vault, like 'Folder/Note.md', "
                             "without '..'")
        return None if path is None else PurePosixPath(path).as_posix()  # "./Note.md" is "Note.md"


class Health(BaseModel):
    status: Literal["ok"]


class Problem(BaseModel):
    """A file that could not be indexed, and why."""

    model_config = ConfigDict(extra="allow")
    path: str
    reason: str


class Status(BaseModel):
    """The daemon's live state (service.status.IndexStatus); fields added there pass through unchanged."""

    model_config = ConfigDict(extra="allow")
    vault: str
    state: Literal["starting", "indexing", "ready", "error", "paused"]
    files_total: int
    files_indexed: int
    files_pending: int
    files_failed: int
    chunks: int
    embedding_model: str
    embedding_choice_reason: str
    llm_model: str
    llm_choice_reason: str
    last_sync: str | None
    last_sync_seconds: float | None
    failed: list[Problem]
    progress: float
    watch_mode: str | None
    embedded_since_start: int
    kinds: dict[str, int]  # indexed files by kind: note, excalidraw, canvas, pdf, image
    error: str | None


class Queued(BaseModel):
    queued: str  # the note's path, or "all"


@router.get("/health")
async def health() -> Health:
    return Health(status="ok")


@router.get("/api/status")
async def status(request: Request) -> Status:
    return Status.model_validate(request.app.state.status.snapshot())


@router.post("/api/reindex", status_code=202)
async def reindex(request: Request, body: ReindexRequest) -> Queued:
    """`{}` redoes every note, `{"path": ...}` one; the JSON body is required (a cross-site form cannot send one)."""
    request.app.state.writer.reindex(body.path)
    return Queued(queued=body.path or "all")


@router.get("/", include_in_schema=False)
async def status_page() -> FileResponse:
    return FileResponse(STATUS_PAGE, media_type="text/html")
