"""A scope as a model: `vaultrag:work` in /v1/models, and its answers (a real SmolLM2 behind the Ollama-protocol
test server) never cite a note outside the scope, even when the question asks for one."""

from __future__ import annotations

import json
import os
import subprocess
from urllib.parse import unquote

import httpx
import pytest

from tests.e2e.conftest import VAULTRAG, Daemon, free_port, wait_for

pytestmark = pytest.mark.slow
NOTES = {
    "Work/Budget.md": "# Budget\nThe project budget for the launch is 40k euros, approved in March.\n",
    "Work/Team.md": "# Team\nAda leads the launch team; Bob writes the press kit.\n",
    "Personal/Money.md": "# Money\nMy personal budget: rent is 900 euros, savings 300 euros a month.\n",
}


@pytest.fixture(scope="module")
def daemon(ollama_server, tmp_path_factory):
    root = tmp_path_factory.mktemp("scopes")
    for rel, text in NOTES.items():
        (root / "vault" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "vault" / rel).write_text(text)
    port = free_port()
    env = {**os.environ, "VAULTRAG_LLM__BASE_URL": ollama_server.url, "VAULTRAG_LLM__MODEL": ollama_server.model,
           "VAULTRAG_LLM__CONTEXT_TOKENS": "2048", "VAULTRAG_LLM__ANSWER_TOKENS": "24",
           "VAULTRAG_ANSWER__MIN_SCORE": "0", "VAULTRAG_SCOPES__WORK": "path:Work/"}
    proc = subprocess.Popen([VAULTRAG, "serve", "--vault", str(root / "vault"), "--data-dir", str(root / "data"),
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=open(root / "log", "w"), env=env)
    d = Daemon(proc, f"http://127.0.0.1:{port}", root / "log")

    def ready():
        assert proc.poll() is None, d.log()
        try:
            return httpx.get(d.url + "/api/status", timeout=2).json()["state"] == "ready"
        except httpx.HTTPError:
            return False
    wait_for(ready, 120, what="ready")
    yield d
    d.stop()


def _cited(daemon: Daemon, model: str, question: str, stream: bool = False) -> set[str]:
    """The notes an answer cites: its sources (Open WebUI's field) and the links of its Markdown Sources list."""
    body = {"model": model, "messages": [{"role": "user", "content": question}], "stream": stream}
    response = httpx.post(daemon.url + "/v1/chat/completions", json=body, timeout=300)
    assert response.status_code == 200, response.text
    if stream:
        events = [json.loads(line[6:]) for line in response.text.splitlines()
                  if line.startswith("data: ") and line != "data: [DONE]"]
        sources = [e["event"]["data"] for e in events if "event" in e]
        content = "".join(c["delta"].get("content") or "" for e in events for c in e.get("choices", []))
    else:
        sources, content = response.json()["sources"], response.json()["choices"][0]["message"]["content"]
    # /open/ links carry opaque ids: each is named by a source's url; one that is not stays an id and fails the test
    path_of = {s["source"]["url"].split("/open/")[1].split("?")[0]: s["metadata"][0]["path"] for s in sources}
    linked = {unquote(part.split(")")[0].split("?")[0]) for part in content.split("/open/")[1:]}
    return {meta["path"] for s in sources for meta in s["metadata"]} | {path_of.get(i, i) for i in linked}


def test_scope_is_a_model(daemon):
    ids = [m["id"] for m in httpx.get(daemon.url + "/v1/models").json()["data"]]
    assert ids == ["vaultrag", "vaultrag:work"]


def test_a_scope_model_never_cites_a_note_outside_its_scope(daemon):
    question = "What is my personal budget for rent and savings?"
    assert "Personal/Money.md" in _cited(daemon, "vaultrag", question)  # the whole vault: the note is found
    for stream in (False, True):
        cited = _cited(daemon, "vaultrag:work", question, stream)
        assert cited and all(path.startswith("Work/") for path in cited), cited
    # the question's own filter narrows the scope further, never widens it: nothing is left to cite
    assert _cited(daemon, "vaultrag:work", "path:Personal/ " + question) == set()
