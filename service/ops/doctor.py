"""`vaultrag doctor`: the plan for this machine (which tool does what, and the memory it takes) and what blocks it.

Facts come from the hardware probe, the model catalogue, the LLM server (asked through the backend answers use:
doctor_server), the vault, the data dir and the daemon's port (doctor_checks). The plan's rows are built in
doctor_plan, the report's types live in doctor_report, and doctor_render writes it as Markdown or JSON. Every
finding says how to fix it; a finding at level "error" blocks the plan and `run_doctor` returns 1.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from vaultrag.config.catalogue import load_catalogue
from vaultrag.config.errors import VaultragError
from vaultrag.config.hardware import HardwareProfile, probe
from vaultrag.config.selection import budget, placement
from vaultrag.config.settings import Settings
from vaultrag.ingest.embedders import AUTO
from vaultrag.ingest.writer_lock import read_lock_holder
from vaultrag.service.ops.doctor_checks import disk_findings, fit_findings, port_findings, vault_findings
from vaultrag.service.ops.doctor_documents import documents_row
from vaultrag.service.ops.doctor_plan import automation_row, inference_row, interface_row, llm_size, memory_row
from vaultrag.service.ops.doctor_render import as_data, render
from vaultrag.service.ops.doctor_report import Finding, LLMServer, Report
from vaultrag.service.ops.doctor_server import ask_server, server_findings
from vaultrag.service.ops.model_choice import resolve_models


def run_doctor(settings: Settings, as_json: bool = False, profile: HardwareProfile | None = None) -> int:
    """Print the plan (Markdown, or JSON with `as_json`); 0 when it can run, 1 when something blocks it."""
    report = examine(settings, profile)
    typer.echo(json.dumps(as_data(report), ensure_ascii=False, indent=2) if as_json else render(report))
    return 0 if report.ok else 1


def examine(settings: Settings, profile: HardwareProfile | None = None) -> Report:
    """Gather the facts and the findings; `profile` stands in for the hardware probe (tests)."""
    findings = vault_findings(settings)
    data_dir = _data_dir(settings)
    profile = profile or probe(data_dir)
    catalogue = load_catalogue()
    server = ask_server(settings)
    settings, auto = _resolved(settings, profile, server)
    findings += server_findings(settings, server)
    memory, daemon_gb = memory_row(settings, catalogue, data_dir, profile)
    ram, weights, quant = llm_size(settings, catalogue, server)
    room = budget(profile, catalogue, daemon_gb)
    where = placement(ram, room) if ram is not None else None
    findings += fit_findings(settings, catalogue, profile, ram, weights, where, room)
    holder = read_lock_holder(data_dir / "writer.lock") if data_dir else {}
    rows = [inference_row(settings, server, quant, ram, where, room), memory, interface_row(settings),
            automation_row(settings, holder), documents_row(settings)]
    on_gpu = where == "gpu" and profile.vram_gb > 0  # Apple's unified memory is RAM
    ram_gb, gpu_gb = daemon_gb + (0.0 if on_gpu else ram or 0.0), (ram or 0.0) if on_gpu else 0.0
    findings += disk_findings(profile, data_dir) + port_findings(settings, holder)
    if profile.ram_available_gb is not None and ram_gb > profile.ram_available_gb:
        findings.append(Finding("warning", f"the plan needs about {ram_gb:.1f} GB of RAM and "
                                           f"{profile.ram_available_gb:.1f} GB are free now",
                                "close other programs, or choose a smaller llm.model"))
    return Report(rows, ram_gb, gpu_gb, profile, server, findings, auto)


def _resolved(settings: Settings, profile: HardwareProfile, server: LLMServer) -> tuple[Settings, list[str]]:
    """`settings` with `auto` models chosen (with the models Ollama has), and a line for each choice."""
    installed = [model["name"] for model in server.models] if server.kind == "ollama" else None
    resolved, choice = resolve_models(settings, profile, installed)
    return resolved, [f"{key} = auto: {model}, because {reason}" for key, was, model, reason in (
        ("embedding.model", settings.embedding.model, choice.embedding_model, choice.embedding_reason),
        ("llm.model", settings.llm.model, choice.llm_model, choice.llm_reason)) if was == AUTO]


def _data_dir(settings: Settings) -> Path | None:
    try:
        return settings.data_dir
    except VaultragError:
        return None  # no vault, so no per-vault data dir
