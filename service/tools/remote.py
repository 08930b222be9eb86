"""`vaultrag mcp`: the tools over MCP's stdio transport, each call done by the running daemon over HTTP (this
process never opens the index, so it works while the daemon writes it)."""

from __future__ import annotations

import logging

import anyio
import httpx

from vaultrag.config.settings import Settings
from vaultrag.service.daemon.client import recorded_daemon_url
from vaultrag.service.tools.errors import DaemonNotRunning, ToolFailure
from vaultrag.service.tools.mcp_server import build_mcp_server
from vaultrag.service.tools.specs import enabled_tools

log = logging.getLogger(__name__)
CALL_TIMEOUT_S = 120  # a search on a cold daemon loads the embedding model first


class DaemonTools:
    """Tool calls sent to the daemon's `POST /tools/<name>`, with the API key of the settings."""

    def __init__(self, settings: Settings):
        self._settings = settings
        key = settings.server.api_key
        self._headers = {"Authorization": f"Bearer {key}"} if key else {}

    def url(self) -> str:
        """The daemon's address: the one it recorded in the writer lock, else the configured one."""
        return recorded_daemon_url(self._settings) or self._settings.server.base_url

    def call(self, name: str, arguments: dict) -> dict:
        url = self.url()
        try:
            response = httpx.post(f"{url}/tools/{name}", json=arguments, headers=self._headers, timeout=CALL_TIMEOUT_S)
        except httpx.TransportError:
            raise self.not_running(url) from None
        if response.status_code >= 400:
            try:
                message = response.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = f"the daemon at {url} answered {response.status_code}"
            raise ToolFailure(message)
        return response.json()

    def not_running(self, url: str) -> DaemonNotRunning:
        return DaemonNotRunning(f"no vaultrag daemon is running for the vault {self._settings.vault_path} (nothing "
                                f"answers at {url}): start it with `vaultrag serve`, or install it as a service "
                                "with `vaultrag service install`")

    def running(self) -> bool:
        try:
            return httpx.get(f"{self.url()}/health", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False


def serve_stdio(settings: Settings) -> None:
    """Serve MCP on stdin/stdout until the client closes them; a missing daemon is said on stderr and in the
    result of every call (it may be started later)."""
    daemon = DaemonTools(settings)
    if not daemon.running():
        log.warning("%s", daemon.not_running(daemon.url()))
    server = build_mcp_server(enabled_tools(settings.mcp.allow_writes, settings.mcp.write_folder), daemon.call)
    anyio.run(server.run_stdio_async)
