"""The tools as an MCP server (the official SDK's MCPServer), whoever does their work: the daemon or a client of it."""

from __future__ import annotations

import inspect
import logging
from typing import Annotated, Any, Callable

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import Field
from pydantic_core import PydanticUndefined

from vaultrag.config.errors import VaultragError
from vaultrag.service.tools.specs import ToolSpec

INSTRUCTIONS = ("Tools over the user's Obsidian vault (Markdown notes), kept up to date as the notes change. Search "
                "with search_notes, then read_note for a whole note or one section; related_notes explores around "
                "a note. Cite notes by their obsidian:// links.")

Call = Callable[[str, dict], dict]  # (tool name, arguments) -> the structured result; raises VaultragError


def build_mcp_server(tools: list[ToolSpec], call: Call) -> MCPServer:
    """An MCP server offering `tools`, each run by `call` in a worker thread; a VaultragError becomes a tool
    error (isError, its message for the model to read)."""
    # The SDK logs failed calls' messages (and, at debug, whole requests: questions, note text) under "mcp":
    # only its warnings and errors reach vaultrag's log.
    logging.getLogger("mcp").setLevel(logging.WARNING)
    server = MCPServer(name="vaultrag", title="vaultrag: your Obsidian vault", instructions=INSTRUCTIONS,
                       version=server_version(), log_level="WARNING")
    for spec in tools:
        server.add_tool(_tool_function(spec, call), name=spec.name, title=spec.title, description=spec.description,
                        annotations=ToolAnnotations(read_only_hint=not spec.writes, destructive_hint=False,
                                                    idempotent_hint=not spec.writes, open_world_hint=False),
                        structured_output=True)
    return server


def _tool_function(spec: ToolSpec, call: Call) -> Callable:
    """A function whose signature is the tool's input model, for the SDK to derive the input schema from."""
    async def run(**arguments: Any) -> dict[str, Any]:
        try:
            return await anyio.to_thread.run_sync(call, spec.name, arguments)
        except VaultragError as exc:
            raise ToolError(str(exc)) from None

    parameters = []
    for name, field in spec.input.model_fields.items():
        if field.default_factory is not None:
            default = field.default_factory()
        else:
            default = inspect.Parameter.empty if field.default is PydanticUndefined else field.default
        parameters.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=Annotated[
            (field.annotation, *field.metadata, Field(description=field.description))]))
    run.__signature__ = inspect.Signature(parameters, return_annotation=dict[str, Any])
    run.__name__ = spec.name
    return run


def server_version() -> str:
    """vaultrag's version, as the MCP server and the tools' schema give it."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("vaultrag")
    except PackageNotFoundError:
        return "0"
