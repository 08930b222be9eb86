"""Every request checked: Host and Origin (service.http.request_checks), JSON bodies, the API key (compared in
constant time), the body cap; and CORS only when configured."""

from __future__ import annotations

import hmac

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from vaultrag.config.settings import ServerSettings
from vaultrag.service.http.errors import error_response
from vaultrag.service.http.request_checks import API_PREFIXES, Addressing, HostGuard, check, refusal

OPEN_PATHS = ("/health", "/open/")  # no key needed: a liveness probe, and links clicked in a browser
PROTECTED_PREFIXES = API_PREFIXES


class Guard:
    """ASGI middleware: refuses foreign origins (403) and bodies that are not JSON (415), then, with an API key
    set, requests without it (401), and oversized bodies (413)."""

    def __init__(self, app: ASGIApp, server: ServerSettings):
        self.app = app
        self.addressing = Addressing(server)
        self.key = server.api_key.encode()
        self.max_body_mb = server.max_body_mb
        self.max_body = int(server.max_body_mb * 1_000_000)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        refused = check(self.addressing, scope)
        if refused is not None:
            return await refused(scope, receive, send)
        request = Request(scope)
        if self.key and protected(scope["path"]):
            header = request.headers.get("authorization", "")
            given = header[7:].strip().encode() if header[:7].lower() == "bearer " else b""
            if not hmac.compare_digest(given, self.key):
                return await refusal(401, "missing or wrong API key: send the header 'Authorization: Bearer <key>' "
                                          "with server.api_key", "invalid_api_key")(scope, receive, send)
        length = request.headers.get("content-length")
        if length is not None:  # the HTTP parser holds the body to this length
            if length.isdigit() and int(length) > self.max_body:
                return await self._too_large()(scope, receive, send)
            return await self.app(scope, receive, send)
        replay = await self._read_capped(receive)  # chunked: read it all first, so no handler sees a part of it
        if replay is None:
            return await self._too_large()(scope, receive, send)
        await self.app(scope, replay, send)

    def _too_large(self) -> JSONResponse:
        return refusal(413, f"request body is larger than {self.max_body_mb:g} MB (server.max_body_mb)",
                      "request_too_large")

    async def _read_capped(self, receive: Receive) -> Receive | None:
        """A body without Content-Length (chunked) read up to the cap: a `receive` that replays it, or None past
        the cap."""
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: the app sees that
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_body:
                return None
            if not message.get("more_body", False):
                message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
                break
        pending = [message]

        async def replay():
            return pending.pop() if pending else await receive()
        return replay


def protected(path: str) -> bool:
    """Whether `path` needs the API key (when one is set)."""
    return path.startswith(PROTECTED_PREFIXES) and not path.startswith(OPEN_PATHS)


def document(schema: dict, server: ServerSettings) -> dict:
    """The OpenAPI `schema` with the refusals above: 403 and 421 everywhere, 415 where there is a body; with an
    API key set, which operations need it (HTTP bearer) and that they answer 401 without it."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses.setdefault("403", error_response("The request comes from a web page that may not call the "
                                                        "daemon (its Origin is not listed in server.cors_origins)"))
            responses.setdefault("421", error_response("The Host header does not name this daemon"))
            if "requestBody" in operation:
                responses.setdefault("415", error_response("The body is not sent as application/json"))
    if not server.api_key:
        return schema
    schema.setdefault("components", {}).setdefault("securitySchemes", {})["apiKey"] = {
        "type": "http", "scheme": "bearer", "description": "server.api_key"}
    for path, operations in schema.get("paths", {}).items():
        if protected(path):
            for operation in operations.values():
                operation["security"] = [{"apiKey": []}]
                operation.setdefault("responses", {})["401"] = error_response("Missing or wrong API key")
    return schema


def install(app: FastAPI, server: ServerSettings) -> None:
    """From the outside in: HostGuard; CORS when origins are configured (a browser's preflight carries no API key,
    and the Guard's errors need CORS headers for the page to read them); the Guard."""
    app.add_middleware(Guard, server=server)
    if server.cors_origins:  # each middleware added runs before the ones added earlier
        app.add_middleware(CORSMiddleware, allow_origins=server.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(HostGuard, addressing=Addressing(server))
