"""Every error the HTTP API returns, in OpenAI's shape: {"error": {"message", "type", "code"}} with the right status."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from config.errors import VaultragError
from service.llm import LLMUnavailable, ModelNotFound


class ApiError(Exception):
    def __init__(self, status: int, message: str, type_: str = "invalid_request_error", code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.type, self.code = status, message, type_, code


def _as_api_error(exc: Exception) -> ApiError:
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, ModelNotFound):
        return ApiError(404, str(exc), "invalid_request_error", "model_not_found")
    if isinstance(exc, LLMUnavailable):
        return ApiError(503, str(exc), "service_unavailable", "llm_unavailable")
    if isinstance(exc, VaultragError):
        return ApiError(500, str(exc), "server_error", type(exc).__name__)
    return ApiError(500, "internal error; see the daemon's log", "server_error", "internal_error")


def error_body(exc: Exception) -> dict:
    err = _as_api_error(exc)
    return {"error": {"message": err.message, "type": err.type, "code": err.code}}


def install(app: FastAPI) -> None:
    """Route every error through OpenAI's format, including FastAPI's own validation and 404/405 errors."""

    @app.exception_handler(Exception)
    async def any_error(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(error_body(exc), status_code=_as_api_error(exc).status)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc), status_code=exc.status)

    @app.exception_handler(VaultragError)
    async def vaultrag_error(request: Request, exc: VaultragError) -> JSONResponse:
        return JSONResponse(error_body(exc), status_code=_as_api_error(exc).status)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        code = {401: "invalid_api_key", 404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}.get(exc.status_code)
        return JSONResponse({"error": {"message": message, "type": "invalid_request_error", "code": code}},
                            status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return JSONResponse({"error": {"message": f"{where}: {first['msg']}", "type": "invalid_request_error",
                                       "code": "invalid_value"}}, status_code=400)
