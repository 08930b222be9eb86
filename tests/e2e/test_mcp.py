"""The vault as tools for other agents, on a real daemon: MCP over Streamable HTTP with the official SDK's client (the
initialize handshake, as Open WebUI does it), the same tools over stdio through `vaultrag mcp`, the OpenAPI tool
server, /api/related, the API key on all of them, and writes (off by default, confined to one folder when on)."""

from __future__ import annotations

import json
import os
import subprocess

import anyio
import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.e2e.conftest import VAULTRAG, Daemon, free_port, wait_for

pytestmark = pytest.mark.slow
KEY = "mcp-test-key-51c2"
NOTES = {
    "Baking/Sourdough.md": "---\ntags: [baking]\n---\n# Sourdough\nFeed the starter with flour and water; the dough "
                           "rises overnight and bakes in a hot Dutch oven.\n\n## Shaping\nFold the dough and shape a "
                           "tight boule.\n",
    "Baking/Rye bread.md": "---\ntags: [baking]\n---\nRye bread is a dense loaf from a sour rye starter, baked long in "
                           "a hot oven.\n",
    "Tech/Kubernetes.md": "Kubernetes schedules pods on nodes; a deployment keeps the replicas running.\n",
    "Journal/Market.md": "Bought flour at the market, then fixed the cluster: see [[Kubernetes]].\n",
    "Inbox/Ideas.md": "First idea\n",
}
TOOLS = {"search_notes", "read_note", "related_notes", "list_tags", "recent_notes"}


def _spawn(root, name: str, env: dict) -> Daemon:
    vault = root / name / "vault"
    for rel, text in NOTES.items():
        (vault / rel).parent.mkdir(parents=True, exist_ok=True)
        (vault / rel).write_text(text)
    port = free_port()
    log = root / name / "daemon.log"
    proc = subprocess.Popen([VAULTRAG, "serve", "--vault", str(vault), "--data-dir", str(root / name / "data"),
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=open(log, "w"),
                            env={**os.environ, "VAULTRAG_SERVER__API_KEY": KEY, **env})
    daemon = Daemon(proc, f"http://127.0.0.1:{port}", log)
    daemon.vault, daemon.data = vault, root / name / "data"

    def ready():
        assert proc.poll() is None, daemon.log()
        try:
            state = httpx.get(daemon.url + "/api/status", headers=AUTH, timeout=2).json()
        except httpx.HTTPError:
            return False
        return state["state"] == "ready" and state["files_pending"] == 0
    wait_for(ready, 120, what="the daemon to be ready")
    return daemon


AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture(scope="module")
def daemons(tmp_path_factory):
    """Two daemons on copies of NOTES: "readonly" (the default settings) and "writer" (writes in Inbox/)."""
    root = tmp_path_factory.mktemp("mcp")
    started = {"readonly": _spawn(root, "readonly", {}),
               "writer": _spawn(root, "writer", {"VAULTRAG_MCP__ALLOW_WRITES": "true"})}
    yield started
    for daemon in started.values():
        assert daemon.stop() == 0
        assert " ERROR " not in daemon.log() and "Traceback" not in daemon.log(), daemon.log()


def _http_client(daemon: Daemon, key: str = KEY, headers: dict | None = None) -> Client:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}", **(headers or {})},
                              timeout=httpx2.Timeout(60, read=300))
    # mode="legacy": the initialize handshake, which Open WebUI's MCP client (mcp 2.x) runs
    return Client(streamable_http_client(daemon.url + "/mcp", http_client=http), mode="legacy")


def _stdio_client(daemon: Daemon, env: dict | None = None) -> Client:
    return Client(StdioServerParameters(command=VAULTRAG, args=["mcp", "--vault", str(daemon.vault), "--data-dir",
                                                                 str(daemon.data)],
                                        env={"VAULTRAG_SERVER__API_KEY": KEY, "HOME": os.environ.get("HOME", ""),
                                             **{k: v for k, v in os.environ.items() if k.startswith("XDG_")},
                                             **(env or {})}))


async def _exercise(client: Client) -> dict:
    """Every read tool called once, and two bad calls: what a user of an agent would see."""
    async with client:
        listed = await client.list_tools()
        got = {"tools": {t.name: t for t in listed.tools}}
        got["search"] = await client.call_tool("search_notes", {"query": "how do I schedule pods", "k": 2})
        got["read"] = await client.call_tool("read_note", {"path": "Baking/Sourdough.md", "heading": "Shaping"})
        got["related"] = await client.call_tool("related_notes", {"path": "Baking/Sourdough.md", "k": 2})
        got["tags"] = await client.call_tool("list_tags", {})
        got["recent"] = await client.call_tool("recent_notes", {"n": 2, "path_prefix": "Baking/"})
        got["missing"] = await client.call_tool("read_note", {"path": "../etc/passwd"})
        got["bad"] = await client.call_tool("search_notes", {"query": "x", "k": 1000})
        got["write"] = await client.call_tool("create_note", {"path": "Inbox/New.md", "text": "hi"})
    return got


def _check_reads(got: dict) -> None:
    assert set(got["tools"]) == TOOLS  # writes are off: the write tools are not offered
    search = got["tools"]["search_notes"]
    assert "Obsidian" in search.description and search.input_schema["required"] == ["query"]
    assert search.annotations.read_only_hint is True
    results = got["search"].structured_content["results"]
    assert not got["search"].is_error and results[0]["path"] == "Tech/Kubernetes.md"
    assert results[0]["obsidian_url"].startswith("obsidian://open?vault=vault&file=Tech%2FKubernetes")
    assert json.loads(got["search"].content[0].text) == got["search"].structured_content
    read = got["read"].structured_content
    assert read["text"] == "## Shaping\nFold the dough and shape a tight boule." and read["properties"] == {
        "tags": ["baking"]}
    assert got["related"].structured_content["related"][0]["path"] == "Baking/Rye bread.md"
    assert got["tags"].structured_content["tags"] == [{"tag": "baking", "notes": 2}]
    assert {n["path"] for n in got["recent"].structured_content["notes"]} == {"Baking/Sourdough.md",
                                                                              "Baking/Rye bread.md"}
    assert got["missing"].is_error and "no note '../etc/passwd' in the index" in got["missing"].content[0].text
    assert got["bad"].is_error and "less than or equal to 50" in got["bad"].content[0].text
    assert got["write"].is_error


def test_mcp_over_streamable_http(daemons):
    _check_reads(anyio.run(_exercise, _http_client(daemons["readonly"])))
    assert not (daemons["readonly"].vault / "Inbox/New.md").exists()


def test_mcp_over_stdio_through_the_daemon(daemons):
    _check_reads(anyio.run(_exercise, _stdio_client(daemons["readonly"])))


def test_stdio_says_when_no_daemon_runs(tmp_path):
    vault = tmp_path / "vault"
    vault.mkdir()

    async def call():
        client = Client(StdioServerParameters(command=VAULTRAG, args=["mcp", "--vault", str(vault), "--data-dir",
                                                                     str(tmp_path / "data")],
                                              env={"VAULTRAG_SERVER__PORT": str(free_port()),
                                                   **{k: v for k, v in os.environ.items() if k.startswith("XDG_")}}))
        async with client:
            return await client.call_tool("search_notes", {"query": "anything"})
    result = anyio.run(call)
    assert result.is_error
    assert "no vaultrag daemon is running" in result.content[0].text and "vaultrag serve" in result.content[0].text


def test_mcp_needs_the_key(daemons):
    daemon = daemons["readonly"]
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "curl", "version": "1"}}}
    headers = {"Accept": "application/json, text/event-stream"}
    for auth in ({}, {"Authorization": "Bearer wrong"}):
        refused = httpx.post(daemon.url + "/mcp", json=initialize, headers={**headers, **auth})
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_api_key"
    accepted = httpx.post(daemon.url + "/mcp", json=initialize, headers={**headers, **AUTH})
    assert accepted.status_code == 200 and accepted.headers["mcp-session-id"]

    async def with_wrong_key():
        async with _http_client(daemon, key="wrong"):
            pass
    with pytest.raises(Exception):
        anyio.run(with_wrong_key)


def test_mcp_refuses_a_foreign_origin(daemons):
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "page", "version": "1"}}}
    response = httpx.post(daemons["readonly"].url + "/mcp", json=initialize, headers={
        **AUTH, "Accept": "application/json, text/event-stream", "Origin": "https://evil.example"})
    assert response.status_code == 403
    stream = httpx.get(daemons["readonly"].url + "/mcp", headers={
        **AUTH, "Accept": "text/event-stream", "Origin": "https://evil.example"})
    assert stream.status_code == 403


def test_writes_are_confined_to_the_folder_and_indexed_at_once(daemons):
    daemon = daemons["writer"]

    async def session():
        async with _http_client(daemon) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            made = await client.call_tool("create_note", {"path": "Inbox/Chat summary", "text": "Quokkas nap in the zanzibar greenhouse."})
            found = await client.call_tool("search_notes", {"query": "quokkas nap in the zanzibar greenhouse", "k": 1})
            again = await client.call_tool("create_note", {"path": "Inbox/Chat summary.md", "text": "overwrite"})
            out = await client.call_tool("create_note", {"path": "Inbox/../Tech/Evil.md", "text": "x"})
            other = await client.call_tool("append_to_note", {"path": "Tech/Kubernetes.md", "text": "x"})
            appended = await client.call_tool("append_to_note", {"path": "Inbox/Ideas.md", "text": "Second idea"})
            return names, made, found, again, out, other, appended
    names, made, found, again, out, other, appended = anyio.run(session)
    assert names == TOOLS | {"create_note", "append_to_note"}
    assert made.structured_content["path"] == "Inbox/Chat summary.md" and made.structured_content["indexed"]
    assert found.structured_content["results"][0]["path"] == "Inbox/Chat summary.md"
    assert again.is_error and "never overwrite" in again.content[0].text
    assert out.is_error and other.is_error and "Inbox/" in out.content[0].text
    assert not appended.is_error
    vault = daemon.vault
    assert (vault / "Inbox/Chat summary.md").read_text() == "Quokkas nap in the zanzibar greenhouse.\n"
    assert (vault / "Inbox/Ideas.md").read_text() == "First idea\nSecond idea\n"
    assert (vault / "Tech/Kubernetes.md").read_text() == NOTES["Tech/Kubernetes.md"]
    assert not (vault / "Tech/Evil.md").exists()


def test_openapi_tool_server(daemons):
    daemon = daemons["readonly"]
    assert httpx.get(daemon.url + "/tools/openapi.json").status_code == 401
    schema = httpx.get(daemon.url + "/tools/openapi.json", headers=AUTH).json()
    operations = {op["operationId"]: (path, op) for path, item in schema["paths"].items() for op in item.values()}
    assert set(operations) == TOOLS
    assert operations["search_notes"][0] == "/tools/search_notes" and operations["search_notes"][1]["description"]
    assert operations["search_notes"][1]["security"] == [{"apiKey": []}]
    found = httpx.post(daemon.url + "/tools/search_notes", json={"query": "sourdough starter"}, headers=AUTH)
    assert found.status_code == 200 and found.json()["results"][0]["path"] == "Baking/Sourdough.md"
    missing = httpx.post(daemon.url + "/tools/read_note", json={"path": "Nope.md"}, headers=AUTH)
    assert missing.status_code == 404 and "Nope.md" in missing.json()["error"]["message"]
    refused = httpx.post(daemon.url + "/tools/create_note", json={"path": "Inbox/X.md", "text": "x"}, headers=AUTH)
    assert refused.status_code == 403 and "mcp.allow_writes" in refused.json()["error"]["message"]
    assert not (daemon.vault / "Inbox/X.md").exists()
    assert httpx.post(daemon.url + "/tools/delete_note", json={}, headers=AUTH).status_code == 404
    # the tools stay out of the API's own schema, which lists /api/related
    main = httpx.get(daemon.url + "/openapi.json").json()
    assert "/api/related" in main["paths"] and not any(p.startswith("/tools/") for p in main["paths"])


def test_related_notes_endpoint(daemons):
    daemon = daemons["readonly"]
    related = httpx.get(daemon.url + "/api/related", params={"path": "Tech/Kubernetes.md", "k": 3}, headers=AUTH)
    assert related.status_code == 200
    by_path = {r["path"]: r for r in related.json()["related"]}
    assert by_path["Journal/Market.md"]["links"] == ["linked from"]
    assert httpx.get(daemon.url + "/api/related", params={"path": "Tech/Kubernetes.md"}).status_code == 401
    missing = httpx.get(daemon.url + "/api/related", params={"path": "Nope.md"}, headers=AUTH)
    assert missing.status_code == 404
