"""The OpenAI-compatible API that Open WebUI, the `openai` SDKs and curl use: /v1/models, /v1/chat/completions
(streaming SSE or not) and /v1/embeddings, with OpenAI's JSON shapes and error format."""

from __future__ import annotations

import json
import logging
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Iterator, Literal

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from config.errors import VaultragError
from service.answer import Plan, Source, text_of
from service.api_errors import ApiError, error_body
from service.llm import ChatOptions, Usage

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1")
KEEPALIVE_SECONDS = 2.0
_planning = ThreadPoolExecutor(max_workers=4, thread_name_prefix="answer-plan")


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool = False


class ChatRequest(BaseModel):
    """What we read from a chat request; anything else (tools, tool_choice, user, metadata...) is accepted and ignored."""

    model_config = ConfigDict(extra="allow")
    model: str = Field(min_length=1)
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    stop: str | list[str] | None = None
    seed: int | None = None

    @field_validator("stop")
    @classmethod
    def _listed(cls, stop):
        return [stop] if isinstance(stop, str) else stop


class EmbeddingRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    input: str | list[str]
    model: str = "vaultrag"
    encoding_format: Literal["float"] = "float"


async def parse(request: Request, model: type[BaseModel]) -> Any:
    """The body as `model`, or a 400 in OpenAI's format that names the field."""
    try:
        body = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"request body is not valid JSON: {exc}", "invalid_request_error", "invalid_json") from None
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise ApiError(400, f"{where}: {first['msg']}", "invalid_request_error", "invalid_value") from None


@router.get("/models")
async def models(request: Request) -> dict:
    """Answers at once: no call to the LLM server, so it works mid-index and with Ollama down."""
    created = int(request.app.state.started)
    return {"object": "list", "data": [{"id": model_id, "object": "model", "created": created, "owned_by": "vaultrag"}
                                       for model_id in request.app.state.chat.model_ids()]}


@router.post("/chat/completions")
async def chat_completions(request: Request):
    body: ChatRequest = await parse(request, ChatRequest)
    chat = request.app.state.chat
    chat.check_limits(body.messages)
    llm_model = chat.llm_for(body.model)
    messages = [m.model_dump() for m in body.messages]
    options = ChatOptions(temperature=body.temperature if body.temperature is not None else chat.temperature,
                          top_p=body.top_p, max_tokens=body.max_completion_tokens or body.max_tokens or chat.answer_tokens,
                          stop=body.stop, seed=body.seed)
    reply = Reply(body.model)
    if not body.stream:
        plan = await run_in_threadpool(chat.answerer.plan, messages, llm_model, options.max_tokens)
        text, usage = await run_in_threadpool(_collect, chat.answerer.stream(plan, llm_model, options))
        return reply.completion(text, usage, _finish(usage, options), plan.sources)
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    future = _planning.submit(chat.answerer.plan, messages, llm_model, options.max_tokens)
    return StreamingResponse(reply.sse(future, lambda plan: chat.answerer.stream(plan, llm_model, options), options,
                                       include_usage),
                             media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.post("/embeddings")
async def embeddings(request: Request) -> dict:
    body: EmbeddingRequest = await parse(request, EmbeddingRequest)
    texts = [body.input] if isinstance(body.input, str) else body.input
    if not texts or any(not t for t in texts):
        raise ApiError(400, "input must be a non-empty string or a list of non-empty strings", "invalid_request_error",
                       "invalid_value")
    embedder = request.app.state.chat.embedder
    vectors = await run_in_threadpool(embedder.embed, texts)
    tokens = sum(embedder.files.tokens.count(texts))
    return {"object": "list", "model": embedder.model_id,
            "data": [{"object": "embedding", "index": i, "embedding": v.tolist()} for i, v in enumerate(vectors)],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


def _collect(pieces: Iterator[str | Usage]) -> tuple[str, Usage]:
    text, usage = [], Usage(0, 0)
    for piece in pieces:
        if isinstance(piece, Usage):
            usage = piece
        else:
            text.append(piece)
    return "".join(text), usage


def _finish(usage: Usage, options: ChatOptions) -> str:
    return "length" if options.max_tokens and usage.completion_tokens >= options.max_tokens else "stop"


class Reply:
    """One response's id, timestamps and the exact OpenAI shapes around its content."""

    def __init__(self, model: str):
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.model = model

    def completion(self, text: str, usage: Usage, finish: str, sources: list[Source]) -> dict:
        return {"id": self.id, "object": "chat.completion", "created": self.created, "model": self.model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish,
                             "logprobs": None}],
                "usage": _usage(usage), "sources": [_open_webui_source(s) for s in sources]}

    def chunk(self, delta: dict | None = None, finish: str | None = None, **extra) -> str:
        choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]
        payload = {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                   "choices": choices, **extra}
        return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"

    def sse(self, planned: Future, answer, options: ChatOptions, include_usage: bool) -> Iterator[str]:
        """Role first, `: keep-alive` while retrieval runs, sources, content deltas, finish, usage, [DONE].
        An error at any point becomes an error chunk and [DONE], never a dropped connection."""
        yield self.chunk({"role": "assistant", "content": ""})
        try:
            while True:
                try:
                    plan: Plan = planned.result(timeout=KEEPALIVE_SECONDS)
                    break
                except TimeoutError:
                    yield ": keep-alive\n\n"
            for source in plan.sources:  # Open WebUI shows these as citations; other clients ignore the chunk
                yield self.chunk(event={"type": "source", "data": _open_webui_source(source)})
            usage = Usage(0, 0)
            for piece in answer(plan):
                if isinstance(piece, Usage):
                    usage = piece
                elif piece:
                    yield self.chunk({"content": piece})
            yield self.chunk({}, finish=_finish(usage, options))
            if include_usage:
                yield self.chunk(None, usage=_usage(usage))
        except Exception as exc:  # an error mid-stream still ends the stream properly
            if not isinstance(exc, VaultragError):
                log.exception("answer failed")
            yield f"data: {json.dumps(error_body(exc), ensure_ascii=False)}\n\n"
        yield "data: [DONE]\n\n"


def _usage(usage: Usage) -> dict:
    return {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.prompt_tokens + usage.completion_tokens}


def _open_webui_source(s: Source) -> dict:
    """Open WebUI's citation shape: the source, the excerpt as the document, metadata naming where it came from."""
    name = s.heading or s.title
    return {"source": {"id": s.url, "name": name, "url": s.url},
            "document": [s.text], "metadata": [{"source": s.url, "name": name, "path": s.path, "score": s.score}],
            "distances": [1 - s.score]}
