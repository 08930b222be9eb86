"""Every error the HTTP API returns, in OpenAI's shape: {"error": {"message", "type", "code"}} with the right status."""

from __future__ import annotations

import json
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from vaultrag.config.errors import VaultragError
from vaultrag.ingest.errors import EmbedderUnavailable, StoreUnavailable
from vaultrag.service.answering.errors import QuestionTooLong, RequestRefused, TooManyMessages, UnknownModel
from vaultrag.service.search.filters import FilterError
from vaultrag.service.llm.base import LLMError, LLMUnavailable, ModelNotFound


class ErrorDetail(BaseModel):
    message: str
    type: str
    code: str | None = None


class ErrorResponse(BaseModel):
    """OpenAI's error shape, which every error of the API has."""

    error: ErrorDetail


class ApiError(Exception):
    def __init__(self, status: int, message: str, type_: str = "invalid_request_error", code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.type, self.code = status, message, type_, code


_REFUSED = {UnknownModel: (404, "model_not_found"), TooManyMessages: (400, "too_many_messages"),
            QuestionTooLong: (400, "question_too_long")}  # chat requests answering refuses: status, OpenAI code


def _as_api_error(exc: Exception) -> ApiError:
    """The status, OpenAI error type and code for `exc`: the one place domain errors become HTTP answers."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, RequestRefused):
        status, code = _REFUSED.get(type(exc), (400, "invalid_request"))
        return ApiError(status, str(exc), "invalid_request_error", code)
    if isinstance(exc, ModelNotFound):
        return ApiError(404, str(exc), "invalid_request_error", "model_not_found")
    if isinstance(exc, LLMUnavailable):
        return ApiError(503, str(exc), "service_unavailable", "llm_unavailable")
    if isinstance(exc, LLMError):  # the LLM server answered with an error of its own: a bad gateway, not our bug
        return ApiError(502, str(exc), "server_error", "llm_error")
    if isinstance(exc, StoreUnavailable):  # the Chroma server is down: try again later, not a bug here
        return ApiError(503, str(exc), "service_unavailable", "store_unavailable")
    if isinstance(exc, EmbedderUnavailable):  # Ollama or the remote embedding server is down: try again later
        return ApiError(503, str(exc), "service_unavailable", "embedder_unavailable")
    if isinstance(exc, FilterError):
        return ApiError(400, str(exc), "invalid_request_error", "invalid_filter")
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
        if exc.status_code == 404 and message == "Not Found":
            message = f"no endpoint {request.url.path}: the API is listed at /openapi.json"
        elif exc.status_code == 405:
            allowed = (getattr(exc, "headers", None) or {}).get("Allow", "")
            message = f"{request.method} is not allowed on {request.url.path}; use {allowed or 'another method'}"
        code = {401: "invalid_api_key", 404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}.get(exc.status_code)
        return JSONResponse({"error": {"message": message, "type": "invalid_request_error", "code": code}},
                            status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        message, code = validation_message(list(exc.errors()))
        return JSONResponse({"error": {"message": message, "type": "invalid_request_error", "code": code}},
                            status_code=400)


# pydantic names the alternative of a union it tried in an error's location ("str", "list[str]"): that is no
# field a person could find in their request
_UNION_TAG = re.compile(r"(str|int|float|bool|none|[\w-]+\[.*\]|constrained-\w+)", re.DOTALL)
_NOT_AN_OBJECT = ("model_attributes_type", "dict_type", "model_type")


def _where(error: dict) -> str:
    loc = list(error["loc"])
    keep_last = error["type"] == "extra_forbidden"  # then the last part is the client's own key, whatever it is
    parts = [str(part) for i, part in enumerate(loc) if not (
        isinstance(part, str) and _UNION_TAG.fullmatch(part) and not (keep_last and i == len(loc) - 1))]
    return ".".join(parts[1:] if len(parts) > 1 and parts[0] == "body" else parts) or "body"


def validation_message(errors: list[dict]) -> tuple[str, str]:
    """pydantic's errors as (one message naming the field, code), e.g. "messages.0.role: Input should be ...".

    The deepest error is the one to act on: for a union pydantic reports every alternative it tried, and the
    alternative that got furthest is what the client meant. Alternatives failing at the same place are joined."""
    if any(error["type"] == "json_invalid" for error in errors):
        first = next(error for error in errors if error["type"] == "json_invalid")
        return f"request body is not valid JSON: {first.get('ctx', {}).get('error', first['msg'])}", "invalid_json"
    deepest = max(errors, key=lambda error: _where(error).count(".") + (_where(error) != "body"))
    where = _where(deepest)
    if where == "body" and deepest["type"] == "missing":
        return "the request body is missing: send a JSON object (Content-Type: application/json)", "invalid_value"
    if where == "body" and deepest["type"] in _NOT_AN_OBJECT:
        return "the request body must be a JSON object (Content-Type: application/json)", "invalid_value"
    messages = list(dict.fromkeys(error["msg"].removeprefix("Value error, ") for error in errors
                                  if _where(error) == where))
    if all(m.startswith("Input should be ") for m in messages):
        messages = messages[:1] + [m.removeprefix("Input should be ") for m in messages[1:]]
    return f"{where}: {' or '.join(messages)}", "invalid_value"


def component_schemas(*models: type[BaseModel]) -> dict:
    """JSON schemas of `models` and the models they use, keyed by name, for the OpenAPI schema's components."""
    found = {}
    for model in models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        found.update(schema.pop("$defs", {}))
        found[model.__name__] = schema
    return found


def error_response(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}


def document(schema: dict) -> dict:
    """The OpenAPI `schema` as the API really answers: FastAPI's 422 is our 400, and every operation that takes a
    body documents 400 (invalid) and 413 (too large), in OpenAI's error shape."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(component_schemas(ErrorResponse))
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            if "requestBody" in operation or operation.get("parameters"):
                responses.setdefault("400", error_response("The request is invalid; the message names the field"))
            if "requestBody" in operation:
                responses.setdefault("413", error_response("The body is larger than server.max_body_mb"))
    if "#/components/schemas/HTTPValidationError" not in json.dumps(schema["paths"]):
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
    return schema
