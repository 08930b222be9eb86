"""Whether a request is addressed to this daemon, from a page allowed to call it, with a JSON body.

- Host: a web page on a name that re-resolves to 127.0.0.1 (DNS rebinding) is same-origin with the daemon in the
  browser's eyes; its requests carry that name in Host, so only names that are the daemon's own are answered.
- Origin: a page elsewhere may send requests (a form, `fetch` with mode no-cors) though it cannot read the answers;
  one whose Origin is neither the daemon's own nor in server.cors_origins is refused before anything runs.
- Content-Type: a cross-site page can POST text/plain or a form without a CORS preflight, never application/json.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from vaultrag.config.settings import WILDCARD_HOSTS, ServerSettings

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
API_PREFIXES = ("/api/", "/v1/", "/mcp", "/tools/")  # everything that reads or changes the notes


def refusal(status: int, message: str, code: str) -> JSONResponse:
    """An error in OpenAI's shape, for the checks that run before the app (and its error handlers)."""
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": {"message": message, "type": "invalid_request_error", "code": code}},
                        status_code=status, headers=headers)


def split_host(value: str) -> tuple[str, str]:
    """("name", "port") of a Host header or URL netloc: lower case, IPv6 without brackets, port "" when absent."""
    value = value.strip().lower()
    if value.startswith("["):
        name, _, rest = value[1:].partition("]")
        return name, rest.removeprefix(":")
    name, _, port = value.rpartition(":") if value.count(":") == 1 else (value, "", "")
    return name.rstrip("."), port


def _ip(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return None


class Addressing:
    """The names and origins that are this daemon's, from the settings."""

    def __init__(self, server: ServerSettings):
        self.any_address = server.host in WILDCARD_HOSTS
        names = {"localhost", split_host(server.host)[0], *(split_host(h)[0] for h in server.allowed_hosts)}
        self.origins = {o.rstrip("/").lower() for o in server.cors_origins}
        if server.public_url:
            public = urlsplit(server.public_url)
            names.add(split_host(public.netloc)[0])
            self.origins.add(f"{public.scheme}://{public.netloc}".lower())
        self.names = names

    def host_allowed(self, host: str) -> bool:
        """Loopback, a name of the daemon's own, or (bound to every address) any IP address: a page can only
        rebind a name, and an IP address in Host is what the browser connected to."""
        name, _ = split_host(host)
        ip = _ip(name)
        if ip is not None:
            return ip.is_loopback or self.any_address or name in self.names
        return name in self.names

    def origin_allowed(self, origin: str, host: str) -> bool:
        """The daemon's own origin (the page at `/`, or behind public_url), or a configured CORS origin."""
        origin = origin.strip().rstrip("/").lower()
        if origin in self.origins:
            return True
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and split_host(parts.netloc) == split_host(host)


def check(addressing: Addressing, scope: Scope) -> JSONResponse | None:
    """The refusal for a request that fails the Origin or Content-Type check, else None (Host is HostGuard's)."""
    headers = Headers(scope=scope)
    method, path = scope["method"], scope["path"]
    origin = headers.get("origin")
    if origin is not None and (path.startswith(API_PREFIXES) or method not in SAFE_METHODS) and \
            not addressing.origin_allowed(origin, headers.get("host", "")):
        return refusal(403, f"requests from the web page at {origin[:200]} are refused: only the daemon's own pages "
                            "and the origins listed in server.cors_origins may call it", "origin_not_allowed")
    if method == "POST" and _has_route(scope):  # what a cross-site page can send unasked; elsewhere 404 or 405
        media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media_type != "application/json":
            return refusal(415, f"the request body must be JSON, sent with 'Content-Type: application/json' "
                                f"(got {media_type or 'no Content-Type'!r})", "unsupported_media_type")
    return None


def _has_route(scope: Scope) -> bool:
    """Whether the app (Starlette puts it in the scope) has a route for this method and path."""
    app = scope.get("app")
    routes = getattr(getattr(app, "router", None), "routes", None)
    return routes is None or any(route.matches(scope)[0] is Match.FULL for route in routes)


class HostGuard:
    """ASGI middleware, outermost: requests whose Host header is not this daemon's get a 421 before anything runs."""

    def __init__(self, app: ASGIApp, addressing: Addressing):
        self.app = app
        self.addressing = addressing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = Headers(scope=scope).get("host", "")
            if not self.addressing.host_allowed(host):
                shown = repr(host[:200]) if host else "no Host header"
                return await refusal(421, f"this request is addressed to {shown}, which is not this vaultrag daemon: "
                                          "it answers localhost, loopback addresses, server.host, the host of "
                                          "server.public_url and server.allowed_hosts (this stops DNS rebinding)",
                                     "host_not_allowed")(scope, receive, send)
        await self.app(scope, receive, send)
