"""The tools as plain HTTP: `POST /tools/<name>` with a small schema at `/tools/openapi.json` (Open WebUI's "tool
servers", any OpenAPI client), and `GET /api/related` for the status page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request

from vaultrag.config.settings import Settings
from vaultrag.service.http.errors import ApiError, ErrorResponse, component_schemas
from vaultrag.service.tools import errors as tool_errors
from vaultrag.service.tools.mcp_server import INSTRUCTIONS, server_version
from vaultrag.service.tools.vault_tools import VaultTools

router = APIRouter()

_STATUS = {  # what each refusal of a tool is in HTTP
    tool_errors.BadToolInput: (400, "invalid_value"),
    tool_errors.UnknownTool: (404, "not_found"),
    tool_errors.NoteNotFound: (404, "not_found"),
    tool_errors.WritesDisabled: (403, "writes_disabled"),
    tool_errors.WriteRefused: (403, "write_refused"),
    tool_errors.NoteExists: (409, "note_exists"),
}


def _run(request: Request, name: str, arguments: dict) -> dict:
    tools: VaultTools = request.app.state.tools
    try:
        return tools.call(name, arguments)
    except tool_errors.ToolFailure as exc:
        status, code = _STATUS.get(type(exc), (400, "invalid_value"))
        raise ApiError(status, str(exc), "invalid_request_error", code) from None


@router.post("/tools/{name}", include_in_schema=False)
def run_tool(name: str, request: Request, arguments: Annotated[dict | None, Body()] = None) -> dict:
    """Runs in the thread pool (a search embeds the query); the operations are listed at /tools/openapi.json."""
    return _run(request, name, arguments or {})


@router.get("/api/related", responses={
    404: {"model": ErrorResponse, "description": "No note with this path in the index"},
    503: {"model": ErrorResponse, "description": "The vector store (a Chroma server) cannot be reached"}})
def related(request: Request, path: Annotated[str, Query(min_length=1, max_length=1000)],
            k: Annotated[int, Query(ge=1, le=50)] = 10) -> dict:
    """The notes most like the note at `path` (its chunks' meaning, its links and backlinks), best first."""
    return _run(request, "related_notes", {"path": path, "k": k})


@router.get("/tools/openapi.json", include_in_schema=False)
async def tools_schema(request: Request) -> dict:
    return tools_openapi(request.app.state.tools, request.app.state.settings)


def tools_openapi(tools: VaultTools, settings: Settings) -> dict:
    """One POST operation per enabled tool, its operationId the tool's name (stable: clients keep them)."""
    schemas = component_schemas(ErrorResponse)
    paths = {}
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}
    for spec in tools.specs.values():
        schemas.update(component_schemas(spec.input))
        operation = {
            "operationId": spec.name, "summary": spec.title, "description": spec.description,
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{spec.input.__name__}"}}}},
            "responses": {"200": {"description": "The result",
                                  "content": {"application/json": {"schema": {"type": "object"}}}},
                          "400": {"description": "A bad argument; the message names it", **error},
                          "404": {"description": "No such note (or heading)", **error}}}
        if spec.writes:
            operation["responses"].update({"403": {"description": "Outside mcp.write_folder", **error},
                                           "409": {"description": "The note exists already", **error}})
        if settings.server.api_key:
            operation["security"] = [{"apiKey": []}]
            operation["responses"]["401"] = {"description": "Missing or wrong API key", **error}
        paths[f"/tools/{spec.name}"] = {"post": operation}
    components: dict = {"schemas": schemas}
    if settings.server.api_key:
        components["securitySchemes"] = {"apiKey": {"type": "http", "scheme": "bearer",
                                                    "description": "server.api_key"}}
    return {"openapi": "3.1.0", "info": {"title": "vaultrag tools", "version": server_version(), "description": INSTRUCTIONS},
            "paths": paths, "components": components}
