"""Security defaults: the API key check (constant-time), the request body cap, and CORS only when configured."""

from __future__ import annotations

import hmac

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from config.settings import ServerSettings

OPEN_PATHS = ("/health", "/open/")  # no key needed: a liveness probe, and links clicked in a browser
PROTECTED_PREFIXES = ("/v1/", "/api/")


def _error(status: int, message: str, code: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": {"message": message, "type": "invalid_request_error", "code": code}},
                        status_code=status, headers=headers)


class Guard:
    """ASGI middleware: refuses oversized bodies (413) and, with an API key set, requests without it (401)."""

    def __init__(self, app: ASGIApp, api_key: str, max_body: int):
        self.app = app
        self.key = api_key.encode()
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request = Request(scope)
        path = scope["path"]
        if self.key and path.startswith(PROTECTED_PREFIXES) and not path.startswith(OPEN_PATHS):
            header = request.headers.get("authorization", "")
            given = header[7:].strip().encode() if header[:7].lower() == "bearer " else b""
            if not hmac.compare_digest(given, self.key):
                return await _error(401, "missing or wrong API key: send the header 'Authorization: Bearer <key>' "
                                         "with server.api_key", "invalid_api_key")(scope, receive, send)
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > self.max_body:
            return await self._too_large()(scope, receive, send)
        await self.app(scope, self._capped(receive), send)

    def _too_large(self) -> JSONResponse:
        return _error(413, f"request body is larger than {self.max_body // 1_000_000} MB (server.max_body_mb)",
                      "request_too_large")

    def _capped(self, receive: Receive) -> Receive:
        """Counts streamed (chunked) bodies too, which carry no Content-Length."""
        seen = 0

        async def capped():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise BodyTooLarge()
            return message
        return capped


class BodyTooLarge(Exception):
    pass


def install(app: FastAPI, server: ServerSettings) -> None:
    if server.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=server.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(Guard, api_key=server.api_key, max_body=int(server.max_body_mb * 1_000_000))

    @app.exception_handler(BodyTooLarge)
    async def too_large(request: Request, exc: BodyTooLarge) -> JSONResponse:
        return _error(413, f"request body is larger than {server.max_body_mb:g} MB (server.max_body_mb)",
                      "request_too_large")
