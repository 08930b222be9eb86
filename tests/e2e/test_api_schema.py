"""schemathesis against a real daemon's own OpenAPI schema (/openapi.json): every operation, every check.

No 5xx, every status code and body as documented, schema-valid requests accepted and schema-invalid ones refused,
and the API key really enforced (the `ignored_auth` check). Answers come from a real LLM (SmolLM2 behind the
Ollama-protocol test server), so /v1/chat/completions is exercised end to end, streamed and not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import wait_for

pytestmark = pytest.mark.slow
ST = str(Path(sys.executable).parent / "st")  # schemathesis's command line
KEY = "schema-key-7c21"
NOTES = {"Home/Network.md": "# Home network\n\n## Router\nThe wifi router lives at 192.168.50.1.\n",
         "Recipes/Pancakes.md": "# Pancakes\nRest the batter for 30 minutes.\n"}


def test_every_operation_conforms_to_the_daemons_openapi_schema(write_vault, start_daemon, ollama_server, tmp_path):
    daemon = start_daemon(write_vault(NOTES), env={
        "VAULTRAG_SERVER__API_KEY": KEY, "VAULTRAG_LLM__BASE_URL": ollama_server.url,
        "VAULTRAG_LLM__MODEL": ollama_server.model, "VAULTRAG_LLM__CONTEXT_TOKENS": "2048",
        "VAULTRAG_LLM__ANSWER_TOKENS": "16", "VAULTRAG_ANSWER__EXCERPTS": "2"})
    auth = {"Authorization": f"Bearer {KEY}"}
    wait_for(lambda: daemon.get("/api/status", headers=auth).json()["state"] == "ready", 120, what="ready")
    schema = daemon.get("/openapi.json").json()
    operations = sum(len(methods) for methods in schema["paths"].values())
    assert operations >= 7 and "/v1/chat/completions" in schema["paths"]
    asked_llm = len(ollama_server.requests)

    run = subprocess.run(
        [ST, "run", daemon.url + "/openapi.json", "--checks", "all", "--header", f"Authorization: Bearer {KEY}",
         "--phases", "examples,coverage,fuzzing", "--max-examples", "25", "--generation-deterministic",
         "--workers", "1", "--request-timeout", "90", "--max-response-time", "60", "--no-color"],  # hangs fail
        cwd=tmp_path, capture_output=True, text=True, timeout=400)

    assert run.returncode == 0, run.stdout[-12000:] + run.stderr[-2000:]
    assert f"Selected: {operations}/{operations}" in run.stdout and f"Tested: {operations}" in run.stdout
    assert len(ollama_server.requests) > asked_llm, "no generated request reached the LLM: answers went untested"
    assert daemon.proc.poll() is None and "Traceback" not in daemon.log()
