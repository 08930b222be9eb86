"""LLM backends end to end: a real SmolLM2-135M answers, over llama.cpp's OpenAI-compatible server and through
the Ollama stand-in (tests/llm_servers.py: Ollama's HTTP API, since there is no Ollama binary here).

SmolLM2-135M is small and weak: these tests check behaviour and shape (streaming, counts, limits, errors), at
temperature 0, with short prompts and few tokens. Every backend has a 30 s timeout, so a server that stalls fails
a test instead of hanging it.
"""

from __future__ import annotations

import logging
import socket

import httpx
import ollama
import pytest

from vaultrag.config.errors import ConfigError
from vaultrag.service.llm.base import ChatOptions, LLMUnavailable, ModelNotFound, Usage
from vaultrag.service.llm.factory import make_backend
from vaultrag.service.llm.ollama import ollama_url
from tests.llm_servers import CRASH_MODEL, MODEL, PULLABLE, SMOLLM2_ALIAS

pytestmark = pytest.mark.slow

HI = [{"role": "user", "content": "Say hi"}]
GREEDY = ChatOptions(temperature=0, seed=7, max_tokens=8)
TIMEOUT_S = 30


def free_port() -> int:
    """A port nobody listens on: where a stopped server would be."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reply(backend, model: str, options: ChatOptions = GREEDY, messages=HI, num_ctx: int = 1024) -> tuple[str, Usage]:
    """The whole reply's text and its Usage, checking the stream's shape on the way: text deltas, then one Usage."""
    pieces = list(backend.chat(model, messages, options, num_ctx))
    assert all(isinstance(piece, str) for piece in pieces[:-1]) and isinstance(pieces[-1], Usage)
    return "".join(pieces[:-1]), pieces[-1]


@pytest.fixture
def ollama_stand_in(ollama_server):
    """The session's Ollama stand-in, with its installed models and request log reset after each test."""
    yield ollama_server
    ollama_server.reset()


@pytest.fixture(params=["ollama", "openai"])
def served(request):
    """(backend, model) for each backend against the real model: Ollama's API, and llama.cpp's OpenAI API."""
    if request.param == "ollama":
        stand_in = request.getfixturevalue("ollama_stand_in")
        return make_backend("ollama", stand_in.url, timeout_s=TIMEOUT_S), MODEL
    return make_backend("openai", request.getfixturevalue("llama_server"), timeout_s=TIMEOUT_S), SMOLLM2_ALIAS


def test_streams_several_deltas_then_one_usage(served):
    backend, model = served
    pieces = list(backend.chat(model, HI, ChatOptions(temperature=0, max_tokens=12), 1024))
    deltas, usage = pieces[:-1], pieces[-1]
    assert len(deltas) >= 2 and all(isinstance(d, str) and d for d in deltas)
    assert isinstance(usage, Usage) and usage.prompt_tokens > 0 and 0 < usage.completion_tokens <= 12


def test_temperature_zero_and_a_seed_give_the_same_text_twice(served):
    backend, model = served
    first, _ = reply(backend, model)
    assert first.strip() and reply(backend, model)[0] == first


def test_max_tokens_bounds_the_completion(served):
    backend, model = served
    text, usage = reply(backend, model, ChatOptions(temperature=0, max_tokens=3))
    assert text and 1 <= usage.completion_tokens <= 3


def test_a_stop_string_ends_the_reply_before_it(served):
    backend, model = served
    full, _ = reply(backend, model)
    stop = next(word for word in full.split()[1:] if word.isalpha())  # a word from the middle of the reply
    cut, usage = reply(backend, model, ChatOptions(temperature=0, seed=7, max_tokens=8, stop=[stop]))
    assert stop not in cut and full.startswith(cut) and len(cut) < len(full)


def test_models_lists_what_the_server_has(served):
    backend, model = served
    assert model in backend.models()
    backend.ensure_model(model)  # present: returns quietly


def test_the_ollama_backend_sends_num_ctx_the_options_and_keep_alive(ollama_stand_in):
    backend = make_backend("ollama", ollama_stand_in.url, keep_alive="10m", timeout_s=TIMEOUT_S)
    reply(backend, MODEL, ChatOptions(temperature=0, top_p=0.9, max_tokens=4, stop=["\n\n"], seed=3), num_ctx=1536)
    assert ollama_stand_in.requests[-1] == {
        "model": MODEL, "keep_alive": "10m",
        "options": {"num_ctx": 1536, "temperature": 0, "top_p": 0.9, "num_predict": 4, "stop": ["\n\n"], "seed": 3}}


def test_ollama_not_running_names_the_url_and_how_to_start_it():
    url = f"http://127.0.0.1:{free_port()}"
    backend = make_backend("ollama", url, timeout_s=TIMEOUT_S)
    for attempt in (lambda: list(backend.chat(MODEL, HI, GREEDY, 1024)), backend.models,
                    lambda: backend.ensure_model(MODEL)):
        with pytest.raises(LLMUnavailable) as caught:
            attempt()
        assert url in str(caught.value) and "`ollama serve`" in str(caught.value)


def test_an_unknown_model_says_which_ollama_pull_fetches_it(ollama_stand_in):
    backend = make_backend("ollama", ollama_stand_in.url, timeout_s=TIMEOUT_S)
    with pytest.raises(ModelNotFound, match="`ollama pull nope:1b`"):
        list(backend.chat("nope:1b", HI, GREEDY, 1024))
    with pytest.raises(ModelNotFound, match=f"`ollama pull {PULLABLE}`"):
        backend.ensure_model(PULLABLE)
    assert PULLABLE not in backend.models()  # nothing pulled without auto_pull


def test_auto_pull_pulls_a_missing_model_with_progress_in_the_log(ollama_stand_in, caplog):
    backend = make_backend("ollama", ollama_stand_in.url, auto_pull=True, timeout_s=TIMEOUT_S)
    with caplog.at_level(logging.INFO, logger="vaultrag.service.llm.ollama"):
        backend.ensure_model(PULLABLE)
    progress = [r.getMessage() for r in caplog.records if r.name == "vaultrag.service.llm.ollama"]
    assert any("50%" in line for line in progress) and any("success" in line for line in progress)
    assert PULLABLE in backend.models()
    assert reply(backend, PULLABLE)[1].completion_tokens > 0


def test_auto_pull_of_a_name_the_library_lacks_raises_model_not_found(ollama_stand_in):
    backend = make_backend("ollama", ollama_stand_in.url, auto_pull=True, timeout_s=TIMEOUT_S)
    with pytest.raises(ModelNotFound, match="could not pull 'nope:1b'.*file does not exist"):
        backend.ensure_model("nope:1b")


def test_ollama_host_is_used_when_base_url_is_empty(ollama_stand_in, monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", ollama_stand_in.url.removeprefix("http://"))
    backend = make_backend("ollama", "", timeout_s=TIMEOUT_S)
    assert backend.url == ollama_stand_in.url and MODEL in backend.models()

    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{free_port()}")  # base_url, when given, wins
    assert MODEL in make_backend("ollama", ollama_stand_in.url, timeout_s=TIMEOUT_S).models()


@pytest.mark.parametrize("kind", ["ollama", "openai"])
def test_a_server_dying_mid_reply_raises_llm_unavailable(ollama_stand_in, kind):
    base_url = ollama_stand_in.url + ("/v1" if kind == "openai" else "")
    stream = make_backend(kind, base_url, timeout_s=TIMEOUT_S).chat(CRASH_MODEL, HI, GREEDY, 1024)
    received = []
    with pytest.raises(LLMUnavailable, match="middle of a reply") as caught:
        received.extend(stream)
    assert received == ["Partial", " answer"] and ollama_stand_in.url in str(caught.value)


def test_openai_backend_errors_name_the_url_and_the_fix(ollama_stand_in, llama_server):
    down = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(LLMUnavailable, match=down):
        list(make_backend("openai", down, timeout_s=TIMEOUT_S).chat(SMOLLM2_ALIAS, HI, GREEDY, 1024))
    with pytest.raises(ModelNotFound, match="`ollama pull nope:1b`"):  # Ollama's /v1 answers 404 for it
        list(make_backend("openai", ollama_stand_in.url + "/v1", timeout_s=TIMEOUT_S).chat("nope:1b", HI, GREEDY, 0))
    with pytest.raises(ModelNotFound, match=f"one of: {SMOLLM2_ALIAS}"):
        make_backend("openai", llama_server, timeout_s=TIMEOUT_S).ensure_model("nope:1b")


def test_logs_hold_neither_messages_nor_keys(llama_server, caplog):
    backend = make_backend("openai", llama_server, api_key="sk-do-not-log", timeout_s=TIMEOUT_S)
    with caplog.at_level(logging.DEBUG):
        reply(backend, SMOLLM2_ALIAS, ChatOptions(temperature=0, max_tokens=2),
              messages=[{"role": "user", "content": "My diary note: zebra-7731"}])
    assert "zebra-7731" not in caplog.text and "sk-do-not-log" not in caplog.text


def test_make_backend_rejects_what_it_cannot_use():
    with pytest.raises(ConfigError, match="'ollama' or 'openai'"):
        make_backend("lmstudio", "http://127.0.0.1:1234/v1")
    with pytest.raises(ConfigError, match="llm.base_url"):
        make_backend("openai", "")


@pytest.mark.parametrize("host, url", [("127.0.0.1:5000", "http://127.0.0.1:5000"),
                                       ("example.com", "http://example.com:11434"),
                                       ("https://example.com", "https://example.com:443"),
                                       ("http://[::1]:8000/ollama/", "http://[::1]:8000/ollama"),
                                       (":11435", "http://127.0.0.1:11435")])
def test_ollama_host_is_read_as_the_ollama_cli_reads_it(host, url):
    assert ollama_url(host) == url


def test_the_stand_in_answers_ollamas_documented_api(ollama_stand_in):
    """The official client parses every route the stand-in serves (its pydantic types reject a wrong shape)."""
    client = ollama.Client(host=ollama_stand_in.url, timeout=TIMEOUT_S)
    assert httpx.get(ollama_stand_in.url + "/api/version").json()["version"]
    listed = {m.model: m for m in client.list().models}
    assert listed[MODEL].details.quantization_level == "Q4_1" and listed[MODEL].size > 0
    assert client.show(MODEL).details.format == "gguf"
    answer = client.chat(MODEL, HI, options={"temperature": 0, "num_predict": 4})  # not streamed
    assert answer.done and answer.message.content and answer.eval_count > 0 and answer.done_reason == "length"
    assert [m.model for m in client.ps().models] == [MODEL]
    vectors = client.embed(MODEL, ["a note", "a note", "another"]).embeddings
    assert vectors[0] == vectors[1] != vectors[2]
    assert client.pull(PULLABLE).status == "success" and PULLABLE in {m.model for m in client.list().models}
    with pytest.raises(ollama.ResponseError) as caught:
        client.show("nope:1b")
    assert caught.value.status_code == 404
