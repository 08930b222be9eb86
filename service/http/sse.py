"""A streamed answer as server-sent events (sse-starlette): role, Open WebUI's sources, content deltas, finish,
usage, `[DONE]`; a `: keep-alive` comment every KEEPALIVE_SECONDS; a client that goes away stops the LLM's stream;
a daemon that stops ends each open stream with an error chunk and `[DONE]`."""

from __future__ import annotations

import json
import logging
from contextlib import aclosing
from typing import AsyncIterator, Awaitable, Callable, Generator

import anyio
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from vaultrag.config.errors import VaultragError
from vaultrag.service.answering.answerer import Plan
from vaultrag.service.http.errors import ApiError, error_body
from vaultrag.service.http.openai_replies import Reply, finish_reason, open_webui_source, usage_json
from vaultrag.service.llm.base import ChatOptions, Usage

log = logging.getLogger(__name__)
KEEPALIVE_SECONDS = 2.0  # proxies close a silent stream; a busy LLM can take a minute to its first token
# After the server is told to stop, a stream ends itself at its next piece within this; then sse-starlette cancels
# it. Less than uvicorn's timeout_graceful_shutdown (service.daemon.serve), which then closes the connections.
STOP_GRACE_SECONDS = 2.0
SEPARATOR = "\n"  # what OpenAI sends (sse-starlette's default is \r\n)
Pieces = Generator["str | Usage", None, None]  # an answer's text deltas, then one Usage (Answerer.stream)


def answer_stream(reply: Reply, plan: Callable[[], Awaitable[Plan]], answer: Callable[[Plan], Pieces],
                  options: ChatOptions, include_usage: bool) -> EventSourceResponse:
    """The response that streams `answer(await plan())` as `reply`'s chunks.

    sse-starlette sends the keep-alive comments itself, whatever the stream is waiting on (retrieval, the LLM's first
    token), and cancels the stream when the client disconnects. When the server stops it sets `stopping`, and the
    stream ends with a `shutting_down` error chunk and [DONE] at its next piece (cancelled after STOP_GRACE_SECONDS)."""
    stopping = anyio.Event()
    return EventSourceResponse(_events(reply, plan, answer, options, include_usage, stopping), sep=SEPARATOR,
                               ping=KEEPALIVE_SECONDS, ping_message_factory=_keep_alive,
                               headers={"Cache-Control": "no-cache"}, shutdown_event=stopping,
                               shutdown_grace_period=STOP_GRACE_SECONDS)


def _keep_alive() -> ServerSentEvent:
    return ServerSentEvent(comment="keep-alive", sep=SEPARATOR)


class _Stopping(Exception):
    """The server is stopping: the answer ends here."""


async def _events(reply: Reply, plan: Callable[[], Awaitable[Plan]], answer: Callable[[Plan], Pieces],
                  options: ChatOptions, include_usage: bool, stopping: anyio.Event) -> AsyncIterator[str]:
    """Each event's data. An error at any point becomes an error chunk and [DONE], never a dropped connection."""
    yield reply.chunk({"role": "assistant", "content": ""})
    try:
        planned = await plan()
        if stopping.is_set():
            raise _Stopping()
        for source in planned.sources:  # Open WebUI shows these as citations; other clients ignore the chunk
            yield reply.chunk(event={"type": "source", "data": open_webui_source(source)})
        usage = Usage(0, 0)
        async with aclosing(_in_threads(answer(planned))) as pieces:
            async for piece in pieces:
                if stopping.is_set():
                    raise _Stopping()  # leaving the block closes the LLM's stream
                if isinstance(piece, Usage):
                    usage = piece
                elif piece:
                    yield reply.chunk({"content": piece})
        yield reply.chunk({}, finish=finish_reason(usage, options))
        if include_usage:
            yield reply.chunk(None, usage=usage_json(usage))
    except _Stopping:
        yield json.dumps(error_body(ApiError(503, "vaultrag is shutting down; ask again once it is back",
                                             "service_unavailable", "shutting_down")))
    except Exception as exc:  # an error mid-stream still ends the stream properly
        if not isinstance(exc, VaultragError):
            log.exception("answer failed")
        yield json.dumps(error_body(exc), ensure_ascii=False)
    yield "[DONE]"


async def _in_threads(pieces: Pieces) -> AsyncIterator[str | Usage]:
    """`pieces` (a blocking LLM stream), each read in a worker thread so the event loop never waits on it.

    When the stream is cancelled (the client went away, or the server stops), the cancellation lands once the piece
    being read arrives; then `pieces` is closed, which closes the connection to the LLM server and ends its work."""
    try:
        while True:
            piece = await run_in_threadpool(next, pieces, _END)
            if piece is _END:
                return
            yield piece
    finally:
        with anyio.CancelScope(shield=True):  # closing must finish even while the stream is being cancelled
            await run_in_threadpool(pieces.close)


_END = object()
