"""SIGTERM under load: ten clients streaming answers from the real SmolLM2 (behind the Ollama stand-in, one slot, so
most wait in its queue), some of them follow-ups whose plan asks the LLM too, while a sync of a few hundred new notes
runs. The daemon must exit 0, end every stream properly, and leave the index as a restart expects it."""

from __future__ import annotations

import json
import signal
import threading
import time

import httpx
import pytest

from tests.e2e.conftest import wait_for
from vaultrag.ingest.index import DataDir
from vaultrag.ingest.pipeline import VaultIndexer
from vaultrag.config.settings import load_settings

pytestmark = pytest.mark.slow
CLIENTS = 10
FOLLOW_UPS = 3  # of the clients: a conversation, so the plan rewrites the question with the LLM first
NEW_NOTES = 250  # one chunk each; on 2 cores busy with the LLM, a minute or more of embedding
NOTES = {
    "Home/Network.md": "# Home network\n\n## Router\nThe wifi router lives at 192.168.50.1; the admin password is on "
                       "the sticker under it.\n",
    "Recipes/Pancakes.md": "# Pancakes\nMix 200 g flour, 2 eggs and 300 ml milk, rest the batter for 30 minutes.\n",
}
QUESTIONS = ("Where does the wifi router live?", "How long does the pancake batter rest?")


def stream_answer(url: str, model: str, n: int, lines: list[str], failures: list) -> None:
    question = QUESTIONS[n % len(QUESTIONS)]
    messages = [{"role": "user", "content": question}]
    if n < FOLLOW_UPS:
        messages = [{"role": "user", "content": "Tell me about my notes."},
                    {"role": "assistant", "content": "They cover a home network and some recipes."}, *messages]
    try:
        with httpx.stream("POST", url + "/v1/chat/completions", timeout=120, json={
                "model": "vaultrag", "stream": True, "max_tokens": 32, "messages": messages}) as response:
            for line in response.iter_lines():
                lines.append(line)
    except httpx.HTTPError as exc:  # a dropped connection: the stream did not end as a client expects
        failures.append((n, repr(exc)))


def test_sigterm_while_ten_clients_stream_and_a_sync_runs(write_vault, start_daemon, ollama_server, embedder):
    vault = write_vault(NOTES)
    daemon = start_daemon(vault, env={"VAULTRAG_LLM__BASE_URL": ollama_server.url,
                                      "VAULTRAG_LLM__MODEL": ollama_server.model,
                                      "VAULTRAG_LLM__CONTEXT_TOKENS": "2048", "VAULTRAG_ANSWER__EXCERPTS": "2"})
    daemon.wait_ready()
    for i in range(NEW_NOTES):  # a sync still running when the clients are all answered
        (vault / "Load" / f"Note {i}.md").parent.mkdir(exist_ok=True)
        (vault / "Load" / f"Note {i}.md").write_text(f"# Note {i}\n\n" + f"Item {i} is about many things. " * 30)
    wait_for(lambda: daemon.status()["state"] == "indexing", 60, what="the sync of the new notes to start")

    streams: list[list[str]] = [[] for _ in range(CLIENTS)]
    failures: list = []
    clients = [threading.Thread(target=stream_answer, args=(daemon.url, ollama_server.model, n, streams[n], failures),
                                daemon=True) for n in range(CLIENTS)]
    for client in clients:
        client.start()
    wait_for(lambda: all(any(line.startswith("data: {") for line in s) for s in streams), 60,
             what="every client's stream to begin")
    wait_for(lambda: any('"content": "' in line or '"content":"' in line for s in streams for line in s
                         if '"content": ""' not in line and '"content":""' not in line), 120,
             what="an answer to stream its first words")
    assert daemon.status()["state"] == "indexing"  # the sync is still running when the signal comes

    started = time.monotonic()
    assert daemon.stop(signal.SIGTERM, timeout=60) == 0, daemon.log()  # the kill timeout only: speed is in bench/
    print(f"exited {time.monotonic() - started:.1f} s after SIGTERM")
    for client in clients:
        client.join(30)
    assert not failures
    for n, lines in enumerate(streams):
        data = [line.removeprefix("data: ") for line in lines if line.startswith("data: ")]
        assert data[-1] == "[DONE]", (n, data[-3:])
        last = json.loads(data[-2])
        if "error" in last:  # stopped: says so, and why
            assert last["error"]["code"] == "shutting_down", (n, last)
        else:  # or it had ended already: its finish chunk (a usage chunk only when asked for)
            assert last["choices"][0]["finish_reason"] in ("stop", "length"), (n, data[-3:])

    data_dir = daemon_data(daemon)
    # The lock itself is checked below, by taking it. Its holder record may stay when the writer was still inside an
    # embedding step at the deadline: that step is left as after kill -9 (it had written nothing), which is safe.
    index = DataDir(data_dir).open_active()
    try:
        done = {path: rec.chunk_ids for path, rec in index.manifest.files().items() if rec.state == "clean"}
        stored = {hit.id for hit, _ in index.store.get([i for ids in done.values() for i in ids])}
    finally:
        index.close()
    assert all(set(ids) <= stored for ids in done.values())  # no note recorded as done without its chunks

    settings = load_settings(overrides={"vault.path": str(vault), "data.dir": str(data_dir)}, environ={})
    with VaultIndexer(settings, embedder) as indexer:  # the lock can be taken: nothing holds it any more
        restarted = indexer.sync()
        after = indexer.index.manifest.files()
    assert restarted.complete and restarted.files_total == len(NOTES) + NEW_NOTES
    redone = sum(len(rec.chunk_ids) for path, rec in after.items() if path not in done)
    assert restarted.embedded <= redone  # nothing the stopped daemon had finished is embedded again
    assert all(after[path].chunk_ids == ids for path, ids in done.items())


def daemon_data(daemon):
    command = daemon.proc.args
    return type(daemon.log_path)(command[command.index("--data-dir") + 1])
