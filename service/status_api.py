"""Endpoints for people and scripts: `/health`, `/api/status`, `/api/reindex` and the status page at `/`."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict

router = APIRouter()
STATUS_PAGE = Path(__file__).with_name("static") / "index.html"


class ReindexRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str | None = None


@router.get("/health")
async def health() -> dict:
    return {"status": "ok"}


@router.get("/api/status")
async def status(request: Request) -> dict:
    return request.app.state.status.snapshot()


@router.post("/api/reindex", status_code=202)
async def reindex(request: Request, body: ReindexRequest | None = None) -> dict:
    path = body.path if body else None
    if path is not None:
        rel = PurePosixPath(path)
        if not path or rel.is_absolute() or ".." in rel.parts:
            raise HTTPException(400, f"path {path!r} must be relative to the vault, without '..'")
        path = rel.as_posix()
    request.app.state.writer.reindex(path)
    return {"queued": path or "all"}


@router.get("/", include_in_schema=False)
async def status_page() -> FileResponse:
    return FileResponse(STATUS_PAGE, media_type="text/html")
