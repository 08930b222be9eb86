"""`vaultrag doctor` against the Ollama stand-in (tests/llm_servers.py), a stopped Ollama, and broken settings.

The tests that need a running Ollama are marked slow: the stand-in's session fixture starts llama.cpp's server.
The hardware is the real probe unless a test describes a machine by hand.
"""

from __future__ import annotations

import json
import os
import socket

import pytest

from vaultrag.config.hardware import HardwareProfile
from vaultrag.service.ops import system_service
from vaultrag.service.ops.doctor import run_doctor
from tests.llm_servers import MODEL, PULLABLE
from tests.e2e.conftest import free_port

TABLE_HEADER = "| Component | Tool | Why | Estimated RAM |"


@pytest.fixture(autouse=True)
def no_systemctl(monkeypatch):
    """The automation row without asking this machine's systemd: the user service is not installed."""
    monkeypatch.setattr(system_service, "status", lambda: system_service.ServiceStatus(
        "linux", "/home/u/.config/systemd/user/vaultrag.service", False, "disabled", "inactive", ""))


@pytest.fixture
def settings(write_vault, settings_for):
    """settings(**{"llm.model": ...}) -> Settings for a small vault, on a free port, with Ollama stopped."""

    def make(**overrides):
        vault = write_vault({"Notes/Welcome.md": "# Welcome\nHello."})
        return settings_for(vault, **{"server.port": free_port(), "llm.base_url": f"http://127.0.0.1:{free_port()}",
                                      **overrides})

    return make


@pytest.fixture
def ollama(ollama_server):
    yield ollama_server
    ollama_server.reset()


def run(capsys, settings, as_json=False, profile=None) -> tuple[int, str]:
    code = run_doctor(settings, as_json=as_json, profile=profile)
    return code, capsys.readouterr().out


@pytest.mark.slow
def test_a_pulled_model_gives_the_plan_and_exit_0(capsys, settings, ollama):
    current = settings(**{"llm.base_url": ollama.url, "llm.model": MODEL})
    code, out = run(capsys, current)
    assert code == 0, out
    lines = out.splitlines()
    assert TABLE_HEADER in lines
    rows = {line.split(" | ")[0].strip("| "): line for line in lines if line.startswith("| ") and " | " in line}
    assert "Ollama 0.9.0 + smollm2:135m (Q4_1)" in rows["inference"]
    assert "ChromaDB (embedded) + all-MiniLM-L6-v2" in rows["memory"]
    assert f"Open WebUI -> http://127.0.0.1:{current.server.port}/v1" in rows["interface"]
    assert "user service not installed" in rows["automation"] and "watcher: auto" in rows["automation"]
    assert rows["inference"].endswith(" GB |") and rows["memory"].endswith(" GB |")
    assert "**Total: about " in out and "RAM available now: " in out
    assert out.rstrip().endswith("Ready: the plan can run.")


@pytest.mark.slow
def test_a_model_not_pulled_blocks_with_the_pull_command(capsys, settings, ollama):
    code, out = run(capsys, settings(**{"llm.base_url": ollama.url, "llm.model": PULLABLE}))
    assert code == 1
    assert f"Ollama does not have the model {PULLABLE}" in out and f"`ollama pull {PULLABLE}`" in out


@pytest.mark.slow
def test_with_auto_pull_a_missing_model_is_only_a_warning(capsys, settings, ollama):
    code, out = run(capsys, settings(**{"llm.base_url": ollama.url, "llm.model": PULLABLE, "llm.auto_pull": True}))
    assert code == 0, out
    assert "**warning**: Ollama does not have smollm2:360m yet; llm.auto_pull pulls it" in out


@pytest.mark.slow
def test_json_gives_the_same_as_data(capsys, settings, ollama):
    code, out = run(capsys, settings(**{"llm.base_url": ollama.url, "llm.model": MODEL}), as_json=True)
    report = json.loads(out)
    assert code == 0 and report["ok"] is True
    assert set(report) == {"ok", "plan", "total", "hardware", "llm_server", "findings", "auto"}
    (embedding,) = report["auto"]  # embedding.model is "auto" by default; llm.model is set here
    assert embedding.startswith("embedding.model = auto: sentence-transformers/all-MiniLM-L6-v2, because ")
    assert [row["component"] for row in report["plan"]] == ["inference", "memory", "interface", "automation",
                                                          "documents"]
    assert all(set(row) == {"component", "tool", "why", "ram_gb"} for row in report["plan"])
    assert report["plan"][0]["ram_gb"] > 0 and report["plan"][2]["ram_gb"] is None
    total = report["total"]
    assert total["ram_gb"] == pytest.approx(report["plan"][0]["ram_gb"] + report["plan"][1]["ram_gb"], abs=0.02)
    assert total["ram_total_gb"] > 0 and total["gpu_gb"] == 0
    server = report["llm_server"]
    assert server["reachable"] and server["version"] == "0.9.0" and server["url"] == ollama.url
    assert {model["name"] for model in server["models"]} == {f"{MODEL}", "crash-midstream:latest", "slow-start:latest"}
    assert all(model["quantization"] == "Q4_1" and model["size_gb"] > 0 for model in server["models"])
    assert report["findings"] == [] or all(f["level"] == "warning" for f in report["findings"])


def test_ollama_stopped_blocks_with_how_to_start_it(capsys, settings, tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ollama").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "ollama").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    current = settings()
    code, out = run(capsys, current)
    assert code == 1
    assert f"Ollama is not running at {current.llm.base_url}" in out and "`ollama serve`" in out
    assert "Ollama (not answering) + llama3.2:3b" in out


def test_ollama_not_installed_says_how_to_install_it(capsys, settings, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `ollama` here
    code, out = run(capsys, settings())
    assert code == 1
    assert "Ollama is not installed" in out and "https://ollama.com/download" in out and "`ollama serve`" in out


def test_a_missing_vault_blocks(capsys, settings_for, tmp_path):
    code, out = run(capsys, settings_for(tmp_path / "no such vault", **{"server.port": free_port()}))
    assert code == 1 and f"the vault {tmp_path / 'no such vault'} does not exist" in out


def test_no_vault_at_all_blocks(capsys, tmp_path):
    from vaultrag.config.settings import load_settings

    code, out = run(capsys, load_settings(overrides={"data.dir": str(tmp_path / "data")}, environ={}))
    assert code == 1 and "no vault is configured. Fix: pass --vault PATH" in out


def test_a_model_too_large_for_the_machine_names_a_smaller_one(capsys, settings):
    laptop = HardwareProfile(ram_total_gb=8, ram_available_gb=6)
    code, out = run(capsys, settings(**{"llm.model": "llama3.3:70b"}), profile=laptop)
    assert code == 1
    assert "llama3.3:70b needs about 46.0 GB at 8192 tokens of context" in out
    assert 'set llm.model = "llama3.2:3b" (`ollama pull llama3.2:3b`)' in out


def test_a_large_model_on_the_cpu_is_a_warning_about_speed(capsys, settings):
    workstation = HardwareProfile(ram_total_gb=64)
    code, out = run(capsys, settings(**{"llm.model": "qwen2.5:14b"}), profile=workstation)
    assert "**warning**: qwen2.5:14b runs on the CPU with 9.0 GB of weights" in out
    assert 'set llm.model = "qwen2.5:7b"' in out


def test_a_port_held_by_another_program_blocks(capsys, settings):
    current = settings()
    with socket.socket() as other:
        other.bind(("127.0.0.1", current.server.port))
        other.listen()
        code, out = run(capsys, current)
    assert f"port {current.server.port} on 127.0.0.1 is in use by another program" in out
    assert f"server.port = {current.server.port + 1}" in out


def test_a_port_held_by_this_vaults_daemon_is_fine(capsys, settings):
    current = settings()
    current.data_dir.mkdir(parents=True)
    (current.data_dir / "writer.lock").write_text(json.dumps(
        {"pid": os.getpid(), "host": "127.0.0.1", "port": current.server.port, "vault": str(current.vault_path)}))
    with socket.socket() as daemon:
        daemon.bind(("127.0.0.1", current.server.port))
        daemon.listen()
        code, out = run(capsys, current)
    assert "in use" not in out and f"daemon running (pid {os.getpid()})" in out


def test_a_nearly_full_disk_is_a_warning(capsys, settings):
    full = HardwareProfile(ram_total_gb=16, disk_free_gb=1.5, disk_total_gb=500)
    current = settings()
    code, out = run(capsys, current, profile=full)
    assert f"**warning**: the disk holding the data dir ({current.data_dir}) has 1.5 GB free (0%)" in out
    assert "data.dir" in out


def test_markdown_cells_cannot_break_the_table(capsys, settings):
    _, out = run(capsys, settings(**{"llm.model": "odd|name"}), profile=HardwareProfile(ram_total_gb=16))
    inference = next(line for line in out.splitlines() if line.startswith("| inference"))
    assert "odd\\|name" in inference and inference.count(" | ") == 3


def test_ollama_is_looked_for_where_the_backend_looks(capsys, settings, monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:1")
    _, out = run(capsys, settings(**{"llm.base_url": ""}), as_json=True, profile=HardwareProfile(ram_total_gb=16))
    assert json.loads(out)["llm_server"]["url"] == "http://127.0.0.1:1"


@pytest.mark.slow
def test_an_openai_compatible_server_is_asked_for_its_models(capsys, settings, llama_server):
    import httpx

    (served,) = [entry["id"] for entry in httpx.get(f"{llama_server}/models", timeout=10).json()["data"]]
    current = settings(**{"llm.backend": "openai", "llm.base_url": llama_server, "llm.model": served})
    code, out = run(capsys, current, as_json=True, profile=HardwareProfile(ram_total_gb=16))
    assert code == 0, out
    server = json.loads(out)["llm_server"]
    assert server["reachable"] and server["url"] == llama_server and server["models"] == [{"name": served}]
    assert json.loads(out)["plan"][0]["tool"] == f"OpenAI-compatible server + {served}"
    code, out = run(capsys, settings(**{"llm.backend": "openai", "llm.base_url": llama_server, "llm.model": "nope"}))
    assert code == 1
    assert f"the server at {llama_server} does not offer the model 'nope'. Fix: set llm.model to one it lists " \
           f"({served})" in out
