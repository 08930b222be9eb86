"""The OpenAI-compatible API of a real daemon, answering with a real model (SmolLM2 behind the Ollama-protocol test
server), driven by the official `openai` SDK, raw HTTP shaped like Open WebUI's requests, and the README's curls."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
from pathlib import Path

import httpx
import openai
import pytest

from tests.e2e.conftest import VAULTRAG, free_port, wait_for
from tests.llm_servers import ENDLESS_MODEL

pytestmark = pytest.mark.slow
KEY = "test-key-3f9a"
README = Path(__file__).resolve().parents[2] / "README.md"
NOTES = {
    "Home/Network.md": "# Home network\n\n## Router\nThe wifi router lives at 192.168.50.1; the admin password is on "
                       "the sticker under it.\n",
    "Recipes/Pancakes.md": "# Pancakes\nMix 200 g flour, 2 eggs and 300 ml milk, rest the batter for 30 minutes.\n",
}


@pytest.fixture(scope="module")
def vault(tmp_path_factory):
    root = tmp_path_factory.mktemp("chat") / "vault"
    for rel, text in NOTES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@pytest.fixture(scope="module")
def daemon(vault, ollama_server, tmp_path_factory):
    """One daemon for the module: API key on, the Ollama backend at the test server, one extra selectable model."""
    from tests.e2e.conftest import Daemon, wait_for

    port = free_port()
    log = tmp_path_factory.mktemp("chat-log") / "daemon.log"
    env = {**os.environ, "VAULTRAG_SERVER__API_KEY": KEY, "VAULTRAG_LLM__BASE_URL": ollama_server.url,
           "VAULTRAG_LLM__MODEL": ollama_server.model, "VAULTRAG_LLM__SELECTABLE": json.dumps([ollama_server.model, "crash-midstream", "slow-start", ENDLESS_MODEL]),
           "VAULTRAG_LLM__CONTEXT_TOKENS": "2048", "VAULTRAG_LLM__ANSWER_TOKENS": "32",
           "VAULTRAG_ANSWER__EXCERPTS": "2"}
    proc = subprocess.Popen([VAULTRAG, "serve", "--vault", str(vault), "--data-dir", str(log.parent / "data"),
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=open(log, "w"), env=env)
    d = Daemon(proc, f"http://127.0.0.1:{port}", log)

    def healthy():
        try:
            return httpx.get(d.url + "/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            assert proc.poll() is None, d.log()
            return False
    wait_for(healthy, 60, what="/health")
    wait_for(lambda: httpx.get(d.url + "/api/status", headers=auth()).json()["state"] == "ready", 60, what="ready")
    yield d
    proc.terminate()
    proc.wait(15)


def auth() -> dict:
    return {"Authorization": f"Bearer {KEY}"}


OPEN_LINK = r"http://127\.0\.0\.1:\d+/open/[0-9a-f]{24}(\?h=[0-9a-f]{24})?"  # a Sources link: opaque ids only


def sse_events(response: httpx.Response) -> list:
    """The stream as a list: parsed JSON for each `data:` line, ":" for each comment line, "[DONE]" at the end."""
    events = []
    for line in response.iter_lines():
        if line.startswith(":"):
            events.append(":")
        elif line.startswith("data: "):
            data = line[6:]
            events.append(data if data == "[DONE]" else json.loads(data))
    return events


def test_models_lists_the_vault_and_selectable_llms(daemon, ollama_server):
    models = httpx.get(daemon.url + "/v1/models", headers=auth()).json()
    assert models["object"] == "list"
    assert [m["id"] for m in models["data"]] == ["vaultrag", f"vaultrag/{ollama_server.model}",
                                                 "vaultrag/crash-midstream", "vaultrag/slow-start",
                                                 f"vaultrag/{ENDLESS_MODEL}"]
    assert all(m["object"] == "model" and m["owned_by"] == "vaultrag" for m in models["data"])


def test_auth_required_on_api_but_not_health(daemon):
    for path in ("/v1/models", "/api/status"):
        refused = httpx.get(daemon.url + path)
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "invalid_api_key"
        assert httpx.get(daemon.url + path, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert httpx.get(daemon.url + "/health").json() == {"status": "ok"}


def test_openai_sdk_non_streaming(daemon):
    client = openai.OpenAI(base_url=daemon.url + "/v1", api_key=KEY)
    answer = client.chat.completions.create(model="vaultrag", temperature=0, max_tokens=24, seed=1,
                                            messages=[{"role": "user", "content": "What is the wifi router's IP?"}])
    assert answer.object == "chat.completion" and answer.id.startswith("chatcmpl-")
    text = answer.choices[0].message.content
    assert answer.choices[0].message.role == "assistant"
    assert "**Sources**" in text
    links = re.findall(r"\[([^\]]+)\]\((http[^)]+)\)", text.split("**Sources**")[1])
    assert links and all(re.fullmatch(OPEN_LINK, url) for _, url in links), links  # ids, no note names
    name, url = links[0]
    assert name == "Network > Home network > Router"  # the list a person reads keeps the note's title
    hop = httpx.get(url)
    assert hop.status_code == 307 and hop.headers["location"] == "obsidian://open?vault=vault&file=Home%2FNetwork%23Router"
    assert answer.usage.prompt_tokens > 0 and answer.usage.completion_tokens > 0
    assert answer.usage.total_tokens == answer.usage.prompt_tokens + answer.usage.completion_tokens
    assert answer.choices[0].finish_reason in ("stop", "length")


def test_openai_sdk_streaming_with_usage(daemon):
    client = openai.OpenAI(base_url=daemon.url + "/v1", api_key=KEY)
    stream = client.chat.completions.create(
        model="vaultrag", stream=True, stream_options={"include_usage": True}, temperature=0, max_tokens=16,
        messages=[{"role": "user", "content": [{"type": "text", "text": "How long does the pancake batter rest?"}]}])
    chunks = list(stream)
    with_choices = [c for c in chunks if c.choices]
    assert with_choices[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in with_choices)
    assert "**Sources**\n1. [Pancakes](" in text
    assert with_choices[-1].choices[0].finish_reason in ("stop", "length")
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    assert len({c.id for c in chunks}) == 1


def test_open_webui_shaped_request_streams_sources_keepalive_and_done(daemon):
    tools = [{"type": "function", "function": {"name": f"tool_{i}", "description": "x" * 200,
                                               "parameters": {"type": "object", "properties": {}}}} for i in range(36)]
    body = {"model": "vaultrag", "stream": True, "stream_options": {"include_usage": True}, "tools": tools,
            "tool_choice": "auto", "user": "someone", "metadata": {"chat_id": "c1"}, "temperature": 0,
            "max_tokens": 12, "messages": [{"role": "system", "content": "Be brief."},
                                           {"role": "user", "content": "Where is the router password?"}]}
    with httpx.stream("POST", daemon.url + "/v1/chat/completions", json=body, headers=auth(), timeout=120) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        events = sse_events(response)
    assert events[-1] == "[DONE]"
    data = [e for e in events if isinstance(e, dict)]
    assert data[0]["choices"][0]["delta"]["role"] == "assistant"
    sources = [e["event"]["data"] for e in data if "event" in e]
    assert sources and all(re.fullmatch(OPEN_LINK, s["source"]["url"]) for s in sources)  # what a favicon lookup sees
    assert sources[0]["source"]["name"] == "Network > Home network > Router"
    assert sources[0]["document"] and sources[0]["metadata"][0]["path"] == "Home/Network.md"
    assert all(e["object"] == "chat.completion.chunk" for e in data)
    assert "usage" in data[-1] and data[-1]["choices"] == []


def test_task_prompts_go_straight_to_the_llm(daemon):
    answer = httpx.post(daemon.url + "/v1/chat/completions", headers=auth(), timeout=120, json={
        "model": "vaultrag", "temperature": 0, "max_tokens": 8,
        "messages": [{"role": "user", "content": "### Task:\nGenerate a concise title for the chat.\n"
                                                 "### Chat History:\nUSER: wifi router"}]}).json()
    assert "Sources" not in answer["choices"][0]["message"]["content"] and answer["sources"] == []


def test_nothing_relevant_says_so(daemon):
    answer = httpx.post(daemon.url + "/v1/chat/completions", headers=auth(), timeout=120, json={
        "model": "vaultrag", "messages": [{"role": "user", "content": "Who won the 1954 football world cup final?"}]}).json()
    assert answer["choices"][0]["message"]["content"] == "I couldn't find anything about this in your notes."


def test_errors_in_openai_format(daemon):
    post = lambda **kw: httpx.post(daemon.url + "/v1/chat/completions", headers={**auth(), **kw.pop("headers", {})},
                                   timeout=60, **kw)
    bad_json = post(content=b"{not json", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400 and "not valid JSON" in bad_json.json()["error"]["message"]
    wrong_type = post(json={"model": "vaultrag", "messages": "hello"})
    assert wrong_type.status_code == 400 and wrong_type.json()["error"]["message"].startswith("messages")
    unknown = post(json={"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}]})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "model_not_found"
    too_many = post(json={"model": "vaultrag", "messages": [{"role": "user", "content": "hi"}] * 501})
    assert too_many.status_code == 400 and "server.max_messages" in too_many.json()["error"]["message"]
    too_long = post(json={"model": "vaultrag", "messages": [{"role": "user", "content": "x" * 9000}]})
    assert too_long.status_code == 400 and "max_question_chars" in too_long.json()["error"]["message"]
    huge = post(content=b"{" + b" " * 5_000_000 + b"}", headers={"Content-Type": "application/json"})
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "request_too_large"


def test_missing_model_names_the_pull_command(daemon, ollama_server):
    ollama_server.installed.discard(ollama_server.model)
    try:
        answer = httpx.post(daemon.url + "/v1/chat/completions", headers=auth(), timeout=60, json={
            "model": "vaultrag", "messages": [{"role": "user", "content": "What is the wifi router's IP?"}]})
        assert answer.status_code == 404
        assert f"ollama pull {ollama_server.model}" in answer.json()["error"]["message"]
        with httpx.stream("POST", daemon.url + "/v1/chat/completions", headers=auth(), timeout=60, json={
                "model": "vaultrag", "stream": True,
                "messages": [{"role": "user", "content": "What is the wifi router's IP?"}]}) as response:
            events = sse_events(response)
        assert events[-1] == "[DONE]"
        assert "ollama pull" in events[-2]["error"]["message"]
    finally:
        ollama_server.installed.add(ollama_server.model)


def test_follow_up_is_rewritten_into_a_standalone_query(daemon, ollama_server):
    before = len(ollama_server.requests)
    answer = httpx.post(daemon.url + "/v1/chat/completions", headers=auth(), timeout=120, json={
        "model": "vaultrag", "temperature": 0, "max_tokens": 12, "messages": [
            {"role": "user", "content": "What is the wifi router's IP?"},
            {"role": "assistant", "content": "It is 192.168.50.1 [1]."},
            {"role": "user", "content": "and where is its password?"}]})
    assert answer.status_code == 200
    calls = ollama_server.requests[before:]
    assert len(calls) == 2  # the rewrite, then the answer
    assert calls[0]["options"]["temperature"] == 0 and calls[0]["options"]["num_predict"] == 48


def test_llm_dying_mid_stream_ends_with_an_error_chunk_and_done(daemon):
    with httpx.stream("POST", daemon.url + "/v1/chat/completions", headers=auth(), timeout=60, json={
            "model": "vaultrag/crash-midstream", "stream": True,
            "messages": [{"role": "user", "content": "What is the wifi router's IP?"}]}) as response:
        events = sse_events(response)
    assert events[-1] == "[DONE]"
    error = events[-2]["error"]
    assert error["code"] == "llm_unavailable" and "ollama serve" in error["message"]
    assert any(isinstance(e, dict) and e.get("choices") and e["choices"][0]["delta"].get("content") for e in events)


def test_a_slow_llm_gets_keep_alive_comments_until_its_first_token(daemon):
    with httpx.stream("POST", daemon.url + "/v1/chat/completions", headers=auth(), timeout=60, json={
            "model": "vaultrag/slow-start", "stream": True,
            "messages": [{"role": "user", "content": "What is the wifi router's IP?"}]}) as response:
        events = sse_events(response)
    sources = max(n for n, e in enumerate(events) if isinstance(e, dict) and "event" in e)
    first_token = next(n for n, e in enumerate(events) if isinstance(e, dict) and e.get("choices")
                       and e["choices"][0]["delta"].get("content"))
    assert events[sources + 1:first_token].count(":") >= 2  # the stand-in waits 5 s; a comment every 2 s
    assert events[first_token]["choices"][0]["delta"]["content"] == "Slow answer." and events[-1] == "[DONE]"


def test_a_client_that_leaves_mid_answer_stops_the_llm(daemon, ollama_server):
    """Closing the connection mid-answer makes the daemon close its own stream from the LLM, which stops it
    generating: the stand-in's minute-long reply ends early."""
    before = ollama_server.cut_off
    ollama_server.installed.add(ENDLESS_MODEL)
    try:
        with httpx.stream("POST", daemon.url + "/v1/chat/completions", headers=auth(), timeout=60, json={
                "model": f"vaultrag/{ENDLESS_MODEL}", "stream": True,
                "messages": [{"role": "user", "content": "What is the wifi router's IP?"}]}) as response:
            for line in response.iter_lines():
                chunk = json.loads(line[6:]) if line.startswith("data: {") else {}
                if chunk.get("choices") and chunk["choices"][0]["delta"].get("content") == " word":
                    break  # the answer is streaming: leave, closing the connection
        wait_for(lambda: ollama_server.cut_off > before, 30, what="the LLM's reply to be cut off")
    finally:
        ollama_server.installed.discard(ENDLESS_MODEL)


def test_stopping_the_daemon_mid_answer_ends_the_stream_and_the_llms(write_vault, start_daemon, ollama_server):
    """SIGTERM while an answer streams: the daemon exits 0 without waiting for the answer, the client's stream ends
    with an error chunk saying why and [DONE], and the LLM's reply is cut off."""
    daemon = start_daemon(write_vault(NOTES), env={"VAULTRAG_LLM__BASE_URL": ollama_server.url,
                                                   "VAULTRAG_LLM__MODEL": ENDLESS_MODEL})
    daemon.wait_ready()
    before, lines = ollama_server.cut_off, []
    ollama_server.installed.add(ENDLESS_MODEL)

    def read() -> None:
        with httpx.stream("POST", daemon.url + "/v1/chat/completions", timeout=60, json={
                "model": "vaultrag", "stream": True,
                "messages": [{"role": "user", "content": "Where is the router?"}]}) as response:
            for line in response.iter_lines():
                lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    try:
        reader.start()
        wait_for(lambda: any('" word"' in line for line in lines), 30, what="the answer to stream")
        assert daemon.stop(signal.SIGTERM) == 0
        reader.join(10)
        assert not reader.is_alive()  # the stream ended with the daemon
        data = [line for line in lines if line.startswith("data: ")]
        assert data[-1] == "data: [DONE]"
        assert json.loads(data[-2].removeprefix("data: "))["error"]["code"] == "shutting_down"
        wait_for(lambda: ollama_server.cut_off > before, 30, what="the LLM's reply to be cut off")
    finally:
        ollama_server.installed.discard(ENDLESS_MODEL)


def test_ask_streams_an_answer_with_sources(vault, ollama_server, tmp_path):
    env = {**os.environ, "VAULTRAG_LLM__BASE_URL": ollama_server.url, "VAULTRAG_LLM__MODEL": ollama_server.model,
           "VAULTRAG_LLM__ANSWER_TOKENS": "16", "VAULTRAG_DATA__DIR": str(tmp_path / "d")}
    assert subprocess.run([VAULTRAG, "index", "--vault", str(vault)], env=env, capture_output=True).returncode == 0
    asked = subprocess.run([VAULTRAG, "ask", "How long does the pancake batter rest?", "--vault", str(vault)],
                           env=env, capture_output=True, text=True, timeout=120)
    assert asked.returncode == 0, asked.stderr
    assert re.search(r"^\d+\. Pancakes  Recipes/Pancakes\.md  obsidian://open\?vault=vault&file=Recipes%2FPancakes$",
                     asked.stdout.split("\nSources\n")[1], flags=re.M), asked.stdout


def test_ask_goes_through_the_running_daemon_and_prints_the_same_sources(daemon, vault):
    """The daemon answers with its own LLM: this CLI has none configured (Ollama's default address is closed)."""
    asked = subprocess.run([VAULTRAG, "ask", "How long does the pancake batter rest?", "--vault", str(vault),
                            "--data-dir", str(daemon.log_path.parent / "data")],
                           env={**os.environ, "VAULTRAG_API_KEY": KEY}, capture_output=True, text=True, timeout=120)
    assert asked.returncode == 0, asked.stderr
    answer, sources = asked.stdout.split("\nSources\n")
    assert answer.strip() and "**Sources**" not in asked.stdout and "/open/" not in asked.stdout
    assert re.search(r"^\d+\. Pancakes  Recipes/Pancakes\.md  obsidian://open\?vault=vault&file=Recipes%2FPancakes$",
                     sources, flags=re.M), sources
    wrong = subprocess.run([VAULTRAG, "ask", "How long does the batter rest?", "--vault", str(vault), "--data-dir",
                            str(daemon.log_path.parent / "data")], env={**os.environ, "VAULTRAG_API_KEY": "wrong"},
                           capture_output=True, text=True, timeout=120)
    assert wrong.returncode == 1 and "refused the API key" in wrong.stderr  # and it did not answer by itself


def test_openai_backend_end_to_end(vault, llama_server, tmp_path):
    from tests.e2e.conftest import wait_for

    port = free_port()
    env = {**os.environ, "VAULTRAG_LLM__BACKEND": "openai", "VAULTRAG_LLM__BASE_URL": llama_server,
           "VAULTRAG_LLM__MODEL": "smollm2", "VAULTRAG_LLM__ANSWER_TOKENS": "16"}
    proc = subprocess.Popen([VAULTRAG, "serve", "--vault", str(vault), "--data-dir", str(tmp_path / "d"), "--port",
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: _ok(url + "/health"), 60, what="/health")
        wait_for(lambda: httpx.get(url + "/api/status").json()["state"] == "ready", 60, what="ready")
        client = openai.OpenAI(base_url=url + "/v1", api_key="unused")
        answer = client.chat.completions.create(model="vaultrag", temperature=0, messages=[
            {"role": "user", "content": "What is the wifi router's IP?"}])
        assert answer.usage.completion_tokens > 0
        assert "**Sources**\n1. [Network > Home network > Router](" in answer.choices[0].message.content
    finally:
        proc.terminate()
        proc.wait(15)


def test_embeddings(daemon):
    got = httpx.post(daemon.url + "/v1/embeddings", headers=auth(), json={"input": ["one", "two"]}).json()
    assert got["object"] == "list" and [d["index"] for d in got["data"]] == [0, 1]
    assert len(got["data"][0]["embedding"]) == 384 and got["usage"]["prompt_tokens"] == 2


def test_open_links_redirect_into_obsidian_only_for_notes_in_the_vault(daemon):
    hop = httpx.get(daemon.url + "/open/Home/Network.md?heading=Router")
    assert hop.status_code == 307
    assert hop.headers["location"] == "obsidian://open?vault=vault&file=Home%2FNetwork%23Router"
    for evil in ("/open/../../etc/passwd", "/open/%2e%2e/%2e%2e/etc/passwd", "/open/Home/missing.md",
                 "/open//etc/passwd"):
        assert httpx.get(daemon.url + evil).status_code == 404, evil


def test_readme_curl_examples_work(daemon):
    commands = [c for c in re.findall(r"^(curl .+)$", README.read_text(), flags=re.M) if "127.0.0.1:8765" in c]
    assert len(commands) >= 4, "the README shows curl examples for models, chat (both ways) and search"
    for command in commands:
        command = command.replace("http://127.0.0.1:8765", daemon.url).replace("$VAULTRAG_API_KEY", KEY)
        result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, (command, result.stderr)
        assert '"error":{' not in result.stdout.replace(" ", ""), (command, result.stdout)
        assert result.stdout.strip(), command


def test_ollama_down_is_a_clear_error_and_models_still_answer(vault, tmp_path):
    port, dead = free_port(), free_port()
    env = {**os.environ, "VAULTRAG_LLM__BASE_URL": f"http://127.0.0.1:{dead}"}
    proc = subprocess.Popen([VAULTRAG, "serve", "--vault", str(vault), "--data-dir", str(tmp_path / "d"), "--port",
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        from tests.e2e.conftest import wait_for
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: _ok(url + "/health"), 60, what="/health")
        assert httpx.get(url + "/v1/models").json()["data"][0]["id"] == "vaultrag"
        wait_for(lambda: httpx.get(url + "/api/status").json()["state"] == "ready", 60, what="ready")
        answer = httpx.post(url + "/v1/chat/completions", timeout=60, json={
            "model": "vaultrag", "messages": [{"role": "user", "content": "What is the wifi router's IP?"}]})
        assert answer.status_code == 503
        message = answer.json()["error"]["message"]
        assert f"127.0.0.1:{dead}" in message and "ollama serve" in message
    finally:
        proc.terminate()
        proc.wait(15)


def test_no_cors_by_default_and_nothing_private_in_the_log(daemon):
    preflight = httpx.options(daemon.url + "/v1/models", headers={"Origin": "http://evil.example",
                                                                  "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in preflight.headers
    log = daemon.log()
    assert KEY not in log
    assert "192.168.50.1" not in log and "300 ml milk" not in log  # note text never reaches the log
    assert "vaultrag starting" in log


def test_non_loopback_bind_needs_a_key_or_insecure(vault, tmp_path):
    refused = subprocess.run([VAULTRAG, "serve", "--vault", str(vault), "--data-dir", str(tmp_path / "d"), "--host",
                              "0.0.0.0", "--port", str(free_port())], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "refusing to serve your notes on 0.0.0.0 without an API key" in refused.stderr


def _ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
