"""The OpenAI-compatible API that Open WebUI, the `openai` SDKs and curl use: /v1/models, /v1/chat/completions
(streamed as server-sent events, or not) and /v1/embeddings, with OpenAI's JSON shapes and error format."""

from __future__ import annotations

import asyncio
import json
from functools import partial
from typing import Any, Callable, Iterator

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ValidationError

from vaultrag.service.answering.answerer import Plan
from vaultrag.service.http.errors import ApiError, ErrorResponse, validation_message
from vaultrag.service.http.openai_models import (SSE_EVENT, ChatCompletion, ChatRequest, Embedding, EmbeddingList,
                                                 EmbeddingRequest, ModelCard, ModelList, TokenCount)
from vaultrag.service.http.openai_replies import Reply, finish_reason
from vaultrag.service.http.sse import answer_stream
from vaultrag.service.llm.base import ChatOptions, Usage

router = APIRouter(prefix="/v1")


def _body_schema(model: type[BaseModel]) -> dict:
    """The OpenAPI requestBody of an endpoint that reads its body with `parse`."""
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}}


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
    planned = partial(_planned, request, chat.answerer.plan, messages, llm_model, options.max_tokens,
                      chat.scope_for(body.model))
    if not body.stream:
        plan = await planned()
        text, usage = await run_in_threadpool(_collect, chat.answerer.stream(plan, llm_model, options))
        return reply.completion(text, usage, finish_reason(usage, options), plan.sources)
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    return answer_stream(reply, planned, lambda plan: chat.answerer.stream(plan, llm_model, options), options,
                         include_usage)


@router.post("/embeddings", openapi_extra=_body_schema(EmbeddingRequest))
async def embeddings(request: Request) -> EmbeddingList:
    body: EmbeddingRequest = await parse(request, EmbeddingRequest)
    texts = [body.input] if isinstance(body.input, str) else body.input
    embedder = request.app.state.chat.embedder
    vectors = await run_in_threadpool(embedder.embed, texts)
    tokens = sum(embedder.files.tokens.count(texts))
    return EmbeddingList(model=embedder.model_id, usage=TokenCount(prompt_tokens=tokens, total_tokens=tokens),
                         data=[Embedding(index=i, embedding=v.tolist()) for i, v in enumerate(vectors)])


def _planned(request: Request, plan: Callable[..., Plan], *args) -> asyncio.Future:
    """`plan(*args)` (retrieval, maybe a rewrite call: blocking) in the app's planner pool, awaitable; cancelling the
    wait (the client went away) drops a plan that has not started yet."""
    return asyncio.wrap_future(request.app.state.planner.submit(plan, *args))


def _collect(pieces: Iterator[str | Usage]) -> tuple[str, Usage]:
    text, usage = [], Usage(0, 0)
    for piece in pieces:
        if isinstance(piece, Usage):
            usage = piece
        else:
            text.append(piece)
    return "".join(text), usage
