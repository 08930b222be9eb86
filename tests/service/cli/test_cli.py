"""The CLI driven as a user drives it: the installed `vaultrag` command in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

VAULTRAG = str(Path(sys.executable).parent / "vaultrag")


def run(*args: str, env: dict | None = None, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([VAULTRAG, *args], capture_output=True, text=True, timeout=300, input=input,
                          env={**os.environ, **(env or {})})


@pytest.fixture
def vault(write_vault):
    return write_vault({
        "Recipes/Pancakes.md": "---\ntags: [breakfast, sweet]\naliases: Flapjacks\n---\n# Pancakes\n"
                               "Mix 200 g flour, 2 eggs and 300 ml milk; rest the batter 30 minutes.\n",
        "Garden/Roses.md": "# Roses\nPrune the roses in late winter, just above an outward-facing bud.\n",
        "bad.md": b"\x00\x00binary\x00",
    })


@pytest.mark.slow
def test_index_then_search_json(vault, tmp_path):
    data = str(tmp_path / "data")
    index = run("index", "--vault", str(vault), "--data-dir", data, "--json")
    assert index.returncode == 0, index.stderr
    summary = json.loads(index.stdout)
    assert summary["indexed"] == 2 and summary["files_total"] == 2
    assert summary["skipped"] == [{"path": "bad.md", "reason": "binary content, not a text note"}]
    for key in ("unchanged", "renamed", "deleted", "failed", "chunks_added", "chunks_removed", "seconds"):
        assert key in summary

    found = run("search", "when should I prune roses", "-k", "1", "--vault", str(vault), "--data-dir", data, "--json")
    assert found.returncode == 0, found.stderr
    (result,) = json.loads(found.stdout)["results"]
    assert set(result) == {"path", "title", "heading", "text", "score", "obsidian_url", "chunk_id", "tags", "found_by",
                           "page", "linked_from"}
    assert result["page"] is None and result["linked_from"] == []  # a note, not a PDF page; no PDF links it
    assert result["path"] == "Garden/Roses.md" and result["title"] == "Roses"
    assert result["obsidian_url"] == "obsidian://open?vault=vault&file=Garden%2FRoses"
    assert "late winter" in result["text"] and 0 < result["score"] <= 1

    again = run("index", "--vault", str(vault), "--data-dir", data)
    assert again.returncode == 0
    assert "indexed 0, unchanged 3" in again.stdout and "0 embedded" in again.stdout
    assert "skipped bad.md: binary content" in again.stdout


@pytest.mark.slow
def test_search_reads_queries_from_stdin(vault, tmp_path):
    data = str(tmp_path / "data")
    assert run("index", "--vault", str(vault), "--data-dir", data).returncode == 0
    answers = run("search", "--vault", str(vault), "--data-dir", data, "-k", "1",
                  input="pancake batter\nprune roses\n")
    assert answers.returncode == 0, answers.stderr
    assert answers.stdout.index("Recipes/Pancakes.md") < answers.stdout.index("Garden/Roses.md")


def test_config_errors_are_one_line_and_exit_1(vault, tmp_path):
    bad = run("index", "--vault", str(vault), env={"VAULTRAG_EMBEDDING__DEVICE": "gpu"})
    assert bad.returncode == 1
    assert bad.stderr.strip().startswith("vaultrag: bad setting embedding.device = 'gpu'")
    assert "Traceback" not in bad.stderr
    missing = run("index", "--vault", str(tmp_path / "nowhere"), "--data-dir", str(tmp_path / "d"))
    assert missing.returncode == 1 and "does not exist or is not a folder" in missing.stderr


@pytest.mark.slow
def test_every_command_works_with_vaultrag_api_key_exported(vault, tmp_path):
    """The README's `export VAULTRAG_API_KEY=...`, then each command as usual (`serve` with it: test_cli_daemon.py)."""
    from vaultrag.service.cli.main import app

    where = ["--vault", str(vault), "--data-dir", str(tmp_path / "data")]
    commands = {
        "index": (["index", *where], 0),
        "search": (["search", "prune roses", *where], 0),
        "status": (["status", *where], 0),
        "doctor": (["doctor", *where, "--json"], None),  # 1 here: no Ollama on this machine
        "ask": (["ask", "when to prune roses?", *where], 1),  # no LLM reachable: a clear error
        "service": (["service", "install", "--vault", str(vault), "--dry-run"], 0),
        "eval": (["eval", "beir", str(tmp_path / "no-dataset")], 1),
        "models": (["models", "pull", "sentence-transformers/all-MiniLM-L6-v2"], 0),
        "mcp": (["mcp", *where], 0),  # stdin closed at once: no daemon is said, then the session ends
    }
    every = {c.name or c.callback.__name__ for c in app.registered_commands} | {g.name for g in app.registered_groups}
    assert every - {"serve"} == set(commands), "a command is missing from this test"
    env = {"VAULTRAG_API_KEY": "exported-key", "VAULTRAG_LLM__BASE_URL": f"http://127.0.0.1:{_closed_port()}"}
    outputs = {}
    for name, (args, code) in commands.items():
        done = outputs[name] = run(*args, env=env)
        assert "VAULTRAG_API_KEY" not in done.stderr and "setting" not in done.stderr, (name, done.stderr)
        if code is not None:
            assert done.returncode == code, (name, done.stdout, done.stderr)
    assert "Garden/Roses.md" in outputs["search"].stdout and "ollama serve" in outputs["ask"].stderr
    assert "no vaultrag daemon is running" in outputs["mcp"].stderr
    assert "ships with vaultrag" in outputs["models"].stdout and "nothing to download" in outputs["models"].stdout


def test_an_unknown_vaultrag_variable_is_a_warning_not_a_failure(vault, tmp_path):
    done = run("status", "--vault", str(vault), "--data-dir", str(tmp_path / "d"), env={"VAULTRAG_COLOUR": "blue"})
    assert done.returncode == 0, done.stderr
    assert "ignoring environment variable VAULTRAG_COLOUR: it names no setting" in done.stderr


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
