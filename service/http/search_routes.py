"""`POST /api/search`: the same results as `vaultrag search --json`, with a mode and filters."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from vaultrag.ingest.kinds import KINDS
from vaultrag.service.http.errors import ErrorResponse
from vaultrag.service.http.openai_models import integral
from vaultrag.service.search.filters import make_filters
from vaultrag.service.search.searcher import results_json

router = APIRouter()


class SearchFilters(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    tags: list[Annotated[str, Field(pattern=r"[^\s#/]")]] = Field(  # a tag is more than '#', '/' and spaces
        default_factory=list, max_length=50, description="Any of these tags (nested tags too).")
    path_prefix: str = Field(default="", max_length=1000, description="Notes under this folder, e.g. \"Work/\".")
    modified_after: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$", json_schema_extra={"format": "date"},
                                       description="Files modified on or after this day, YYYY-MM-DD.")
    kinds: list[Literal[KINDS]] = Field(default_factory=list, max_length=len(KINDS),
                                        description="Files of these kinds: note, excalidraw, canvas, pdf, image.")


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    query: str = Field(min_length=1, max_length=4000)
    k: Annotated[int, Field(ge=1, le=100), BeforeValidator(integral)] = 5
    mode: Literal["dense", "bm25", "hybrid"] | None = Field(default=None, description="Default: retrieval.mode.")
    filters: SearchFilters = Field(default_factory=SearchFilters)


@router.post("/api/search", responses={
    503: {"model": ErrorResponse, "description": "The vector store (a Chroma server) cannot be reached"}})
def search(body: SearchRequest, request: Request) -> dict:
    """Runs in the thread pool: embedding the query never blocks /health or /api/status. A bad filter is a
    FilterError, answered as 400 `invalid_filter` (service.http.errors)."""
    filters = make_filters(body.filters.tags, body.filters.path_prefix, body.filters.modified_after, body.filters.kinds)
    return results_json(request.app.state.searcher.search(body.query, body.k, body.mode, filters))
