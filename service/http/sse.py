"""A streamed answer as server-sent events (sse-starlette): role, Open WebUI's sources, content deltas, finish,
usage, `[DONE]`; a `: keep-alive` comment every KEEPALIVE_SECONDS; a client that goes away stops the LLM's stream;
a daemon that stops ends each open stream with an error chunk and `[DONE]`."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from contextlib import aclosing
from functools import partial
from typing import AsyncIterator, Awaitable, Callable, Generator, TypeVar

import anyio
from sse_starlette import EventSourceResponse, ServerSentEvent

from vaultrag.config.errors import VaultragError
from vaultrag.service.answering.answerer import Plan
from vaultrag.service.http.errors import ApiError, error_body
from vaultrag.service.http.openai_replies import Reply, finish_reason, open_webui_source, usage_json
from vaultrag.service.llm.base import ChatOptions, Usage

log = logging.getLogger(__name__)
KEEPALIVE_SECONDS = 2.0  # proxies close a silent stream; a busy LLM can take a minute to its first token
# After the server is told to stop, a stream ends itself at once, whatever it waits on; sse-starlette cancels one that
# has not within this. Less than uvicorn's timeout_graceful_shutdown (service.daemon.serve), which then closes them.
STOP_GRACE_SECONDS = 2.0
SEPARATOR = "\n"  # what OpenAI sends (sse-starlette's default is \r\n)
Pieces = Generator["str | Usage", None, None]  # an answer's text deltas, then one Usage (Answerer.stream)
T = TypeVar("T")


def answer_stream(reply: Reply, plan: Callable[[], Awaitable[Plan]], answer: Callable[[Plan], Pieces],
                  options: ChatOptions, include_usage: bool) -> EventSourceResponse:
    """The response that streams `answer(await plan())` as `reply`'s chunks.

    sse-starlette sends the keep-alive comments itself, whatever the stream is waiting on (retrieval, the LLM's first
    token), and cancels the stream when the client disconnects. When the server stops it sets `stopping`, and the
    stream ends with a `shutting_down` error chunk and [DONE] at once, even while it waits for a plan or the LLM."""
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
        planned = await _unless_stopping(stopping, plan)
        for source in planned.sources:  # Open WebUI shows these as citations; other clients ignore the chunk
            yield reply.chunk(event={"type": "source", "data": open_webui_source(source)})
        usage = Usage(0, 0)
        async with aclosing(_in_threads(answer(planned), stopping)) as pieces:  # leaving it closes the LLM's stream
            async for piece in pieces:
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


async def _unless_stopping(stopping: anyio.Event, wait: Callable[[], Awaitable[T]]) -> T:
    """`await wait()`; _Stopping instead, at once, when the server starts stopping first (the wait is cancelled:
    a plan not started yet is dropped, a thread waiting on the LLM is left to finish by itself)."""
    if stopping.is_set():
        raise _Stopping()
    work, stop = asyncio.ensure_future(wait()), asyncio.ensure_future(stopping.wait())
    try:
        await asyncio.wait({work, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
        if not work.done():
            work.cancel()
    if not work.done() or work.cancelled():  # cancelled, or still being cancelled
        raise _Stopping()
    return work.result()


async def _in_threads(pieces: Pieces, stopping: anyio.Event) -> AsyncIterator[str | Usage]:
    """`pieces` (a blocking LLM stream), each read in a worker thread so the event loop never waits on it, until
    the server starts stopping (then _Stopping).

    The event loop never waits for the LLM either: a read still waiting for its piece when the stream is cancelled
    (the client went away) or the server stops is left behind, and closes `pieces` (the connection to the LLM
    server, which ends its work) when that piece arrives; otherwise `pieces` is closed at once."""
    reader = _Reader(pieces)
    try:
        while True:
            piece = await _unless_stopping(stopping, partial(anyio.to_thread.run_sync, reader.read,
                                                             abandon_on_cancel=True))
            if piece is _END:
                return
            yield piece
    finally:
        with anyio.CancelScope(shield=True):  # closing must finish even while the stream is being cancelled
            await anyio.to_thread.run_sync(reader.close)


class _Reader:
    """Reads a generator one piece at a time from worker threads; `close` closes it now, or, while a read is
    under way (a generator cannot be closed while it runs), in that read's thread once it returns."""

    def __init__(self, pieces: Pieces):
        self._pieces = pieces
        self._lock = threading.Lock()
        self._reading = self._closed = False

    def read(self) -> str | Usage | object:
        with self._lock:
            self._reading = True
        try:
            return next(self._pieces, _END)
        finally:
            with self._lock:
                self._reading, left = False, self._closed
            if left:
                self._pieces.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._reading:
                return
        self._pieces.close()


_END = object()
