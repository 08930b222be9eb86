"""`POST /api/search`: the same results as `vaultrag search --json`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from service.retrieval import results_json

router = APIRouter()


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str = Field(min_length=1, max_length=4000)
    k: int = Field(default=5, ge=1, le=100)


@router.post("/api/search")
def search(body: SearchRequest, request: Request) -> dict:
    """Runs in the thread pool: embedding the query never blocks /health or /api/status."""
    return results_json(request.app.state.searcher.search(body.query, body.k))
