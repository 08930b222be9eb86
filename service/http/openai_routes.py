"""The OpenAI-compatible API that Open WebUI, the `openai` SDKs and curl use: /v1/models, /v1/chat/completions
(streaming SSE or not) and /v1/embeddings, with OpenAI's JSON shapes and error format."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from queue import Empty, Queue
from typing import Annotated, Any, Iterator, Literal

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator,
                      model_validator)

from vaultrag.config.errors import VaultragError
from vaultrag.service.answering.answerer import Plan, Source
from vaultrag.service.http.errors import ApiError, ErrorResponse, error_body, validation_message
from vaultrag.service.http.types import integral
from vaultrag.service.llm.base import ChatOptions, Usage

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1")
KEEPALIVE_SECONDS = 2.0
_planning = ThreadPoolExecutor(max_workers=4, thread_name_prefix="answer-plan")


STRICT = ConfigDict(extra="allow", strict=True)  # unknown fields are ignored; known ones must have their JSON type


Positive = Annotated[int, Field(ge=1), BeforeValidator(integral)]  # in this order, or the schema loses the minimum
Int64 = Annotated[int, Field(ge=-2**63, le=2**63 - 1), BeforeValidator(integral)]  # Ollama reads a seed as int64


class ContentPart(BaseModel):
    """One part of a message's content: text is read, other parts (images...) are accepted and ignored."""

    model_config = STRICT
    type: str
    text: str | None = None

    @model_validator(mode="after")
    def _text_is_a_string(self):
        if self.type == "text" and self.text is None:
            self.text = ""  # a text part without text is empty, not an error
        return self


class Message(BaseModel):
    model_config = STRICT
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None


class StreamOptions(BaseModel):
    model_config = STRICT
    include_usage: bool = False


class ChatRequest(BaseModel):
    """What we read from a chat request; anything else (tools, tool_choice, user, metadata...) is accepted and ignored."""

    model_config = STRICT
    model: str = Field(min_length=1, examples=["vaultrag"])
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    max_tokens: Positive | None = None
    max_completion_tokens: Positive | None = None
    stop: str | list[str] | None = None
    seed: Int64 | None = None

    @field_validator("stop")
    @classmethod
    def _listed(cls, stop):
        return [stop] if isinstance(stop, str) else stop


MAX_INPUTS = 2048  # OpenAI's own limit on texts in one embeddings request


class EmbeddingRequest(BaseModel):
    model_config = STRICT
    input: str | list[str] = Field(json_schema_extra={"anyOf": [
        {"type": "string", "minLength": 1},
        {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1, "maxItems": MAX_INPUTS}]})
    model: str = "vaultrag"
    encoding_format: Literal["float"] = "float"

    @field_validator("input")
    @classmethod
    def _non_empty(cls, value):
        texts = [value] if isinstance(value, str) else value
        if not texts or any(not t for t in texts) or len(texts) > MAX_INPUTS:
            raise ValueError(f"must be a non-empty string or a list of 1 to {MAX_INPUTS} non-empty strings")
        return value


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class Embedding(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float]


class TokenCount(BaseModel):
    prompt_tokens: int
    total_tokens: int


class EmbeddingList(BaseModel):
    object: Literal["list"] = "list"
    model: str
    data: list[Embedding]
    usage: TokenCount


class AssistantMessage(BaseModel):
    role: Literal["assistant"]
    content: str


class Choice(BaseModel):
    index: int
    message: AssistantMessage
    finish_reason: Literal["stop", "length"]
    logprobs: None = None


class CompletionUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    """A non-streamed answer; `sources` are the excerpts it was given, as Open WebUI's citations."""

    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[Choice]
    usage: CompletionUsage
    sources: list[dict[str, Any]]


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int
    delta: Delta
    finish_reason: Literal["stop", "length"] | None
    logprobs: None = None


class SourceEvent(BaseModel):
    type: Literal["source"]
    data: dict[str, Any]


class ChatCompletionChunk(BaseModel):
    """One event of a streamed answer: the role, content deltas, the finish reason, then (when asked) the usage
    with no choices. Open WebUI's citations come as chunks with an `event` and no choices."""

    id: str
    object: Literal["chat.completion.chunk"]
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: CompletionUsage | None = None
    event: SourceEvent | None = None


SSE_EVENT = {  # OpenAPI 3.1: the schema of a text/event-stream response describes each event
    "type": "object", "required": ["data"],
    "properties": {"data": {"anyOf": [
        {"const": "[DONE]"},
        {"type": "string", "contentMediaType": "application/json", "contentSchema": {"anyOf": [
            {"$ref": "#/components/schemas/ChatCompletionChunk"}, {"$ref": "#/components/schemas/ErrorResponse"}]}}]}}}


def _body_schema(model: type[BaseModel]) -> dict:
    """The OpenAPI requestBody of an endpoint that reads its body with `parse`."""
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}}


# Schemas the OpenAPI components need that no route names: request bodies read by `parse`, and stream events.
SCHEMA_MODELS = (ChatRequest, EmbeddingRequest, ChatCompletionChunk)


async def parse(request: Request, model: type[BaseModel]) -> Any:
    """The body as `model`, or a 400 in OpenAI's format that names the field."""
    try:
        body = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"request body is not valid JSON: {exc}", "invalid_request_error", "invalid_json") from None
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        message, code = validation_message(exc.errors())
        raise ApiError(400, message, "invalid_request_error", code) from None


@router.get("/models")
async def models(request: Request) -> ModelList:
    """Answers at once: no call to the LLM server, so it works mid-index and with Ollama down."""
    created = int(request.app.state.started)
    return ModelList(data=[ModelCard(id=model_id, created=created, owned_by="vaultrag")
                           for model_id in request.app.state.chat.model_ids()])


@router.post("/chat/completions", response_model=None, openapi_extra=_body_schema(ChatRequest), responses={
    200: {"model": ChatCompletion, "description": "The answer; with `stream: true`, server-sent events",
          "content": {"text/event-stream": {"schema": SSE_EVENT}}},
    404: {"model": ErrorResponse, "description": "No such model (see /v1/models), or the LLM server lacks it"},
    502: {"model": ErrorResponse, "description": "The LLM server answered with an error"},
    503: {"model": ErrorResponse, "description": "The LLM server cannot be reached"}})
async def chat_completions(request: Request):
    body: ChatRequest = await parse(request, ChatRequest)
    chat = request.app.state.chat
    messages = [m.model_dump() for m in body.messages]
    chat.check_limits(messages)
    llm_model = chat.llm_for(body.model)
    max_tokens = min(body.max_completion_tokens or body.max_tokens or chat.answer_tokens, chat.max_answer_tokens)
    options = ChatOptions(temperature=body.temperature if body.temperature is not None else chat.temperature,
                          top_p=body.top_p, max_tokens=max_tokens, stop=body.stop, seed=body.seed)
    reply = Reply(body.model)
    if not body.stream:
        plan = await run_in_threadpool(chat.answerer.plan, messages, llm_model, options.max_tokens,
                                       chat.scope_for(body.model))
        text, usage = await run_in_threadpool(_collect, chat.answerer.stream(plan, llm_model, options))
        return reply.completion(text, usage, _finish(usage, options), plan.sources)
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    future = _planning.submit(chat.answerer.plan, messages, llm_model, options.max_tokens,
                              chat.scope_for(body.model))
    return StreamingResponse(reply.sse(future, lambda plan: chat.answerer.stream(plan, llm_model, options), options,
                                       include_usage),
                             media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.post("/embeddings", openapi_extra=_body_schema(EmbeddingRequest))
async def embeddings(request: Request) -> EmbeddingList:
    body: EmbeddingRequest = await parse(request, EmbeddingRequest)
    texts = [body.input] if isinstance(body.input, str) else body.input
    embedder = request.app.state.chat.embedder
    vectors = await run_in_threadpool(embedder.embed, texts)
    tokens = sum(embedder.files.tokens.count(texts))
    return EmbeddingList(model=embedder.model_id, usage=TokenCount(prompt_tokens=tokens, total_tokens=tokens),
                         data=[Embedding(index=i, embedding=v.tolist()) for i, v in enumerate(vectors)])


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
        """Role first, sources, content deltas, finish, usage, [DONE]; `: keep-alive` during every wait (retrieval,
        the LLM's first token) of KEEPALIVE_SECONDS or more.
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
            for piece in _with_keepalive(answer(plan)):
                if piece is None:
                    yield ": keep-alive\n\n"
                elif isinstance(piece, Usage):
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


def _with_keepalive(pieces: Iterator) -> Iterator:
    """`pieces`, read in a thread of their own, with None after each KEEPALIVE_SECONDS of silence (a busy LLM can
    take a minute to its first token; proxies close a silent stream). Closing this iterator (the client went away,
    or shutdown) stops reading at the next piece and closes `pieces`, which ends the LLM's own stream."""
    queue: Queue = Queue()
    stop = threading.Event()

    def read() -> None:
        try:
            for piece in pieces:
                if stop.is_set():
                    break
                queue.put(piece)
            queue.put(_END)
        except BaseException as exc:
            queue.put(exc)
        finally:
            close = getattr(pieces, "close", None)
            if close is not None:
                close()

    threading.Thread(target=read, name="answer-stream", daemon=True).start()
    try:
        while True:
            try:
                item = queue.get(timeout=KEEPALIVE_SECONDS)
            except Empty:
                yield None
                continue
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()


_END = object()


def _usage(usage: Usage) -> dict:
    return {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.prompt_tokens + usage.completion_tokens}


def _open_webui_source(s: Source) -> dict:
    """Open WebUI's citation shape: the source, the excerpt as the document, metadata naming where it came from."""
    name = s.heading or s.title
    return {"source": {"id": s.url, "name": name, "url": s.url},
            "document": [s.text], "metadata": [{"source": s.url, "name": name, "path": s.path, "score": s.score}],
            "distances": [1 - s.score]}
