"""`/mcp`: the tools over MCP's Streamable HTTP transport, in the daemon's own app (behind its Guard: key, limits)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Callable

from fastapi import FastAPI
from mcp.server.mcpserver import MCPServer
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp.server.transport_security import TransportSecuritySettings

PATH = "/mcp"


def install(app: FastAPI, server: MCPServer) -> Callable[[], AbstractAsyncContextManager]:
    """Route `/mcp` to `server`'s session manager; returns what the app's lifespan must run it in."""
    # The SDK's own Host/Origin check is off: the Guard (service.http.security) checks every request of the app,
    # /mcp included, against the same settings as the rest of the API.
    server.streamable_http_app(streamable_http_path=PATH,
                               transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False))
    sessions = server.session_manager
    app.add_route(PATH, StreamableHTTPASGIApp(sessions), methods=["GET", "POST", "DELETE"], include_in_schema=False)
    return sessions.run
