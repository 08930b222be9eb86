"""`vaultrag doctor`: the plan for this machine (which tool does what, and the memory it takes) and what blocks it.

Facts come from the hardware probe, the model catalogue, the LLM server's HTTP API (Ollama: /api/version,
/api/tags, /api/ps; an OpenAI-compatible server: /models), the vault, the data dir and the daemon's port. Every
finding says how to fix it; a finding at level "error" blocks the plan and `run_doctor` returns 1.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
import psutil
import typer

from vaultrag.config.catalogue import Catalogue, load_catalogue
from vaultrag.config.errors import VaultragError
from vaultrag.config.hardware import GIB, HardwareProfile, probe
from vaultrag.config.selection import CPU_MAX_WEIGHTS_GB, Budget, budget, daemon_ram_gb, describe, placement, smaller_fit
from vaultrag.config.settings import Settings
from vaultrag.ingest.embedders import AUTO
from vaultrag.ingest.index import read_lock_holder
from vaultrag.service.ops import system_service
from vaultrag.service.llm.factory import make_backend
from vaultrag.service.ops.model_choice import resolve_models

HTTP_TIMEOUT_S = 3
DISK_MIN_GB = 2.0
DISK_MIN_SHARE = 0.05
OLLAMA_INSTALL = "install it from https://ollama.com/download (Linux: `curl -fsSL https://ollama.com/install.sh | sh`)"
OLLAMA_START = "start it: `ollama serve`, or open the Ollama app (a Linux install: `sudo systemctl start ollama`)"


@dataclass(frozen=True)
class Finding:
    level: str  # "error" blocks the plan, "warning" does not
    problem: str
    fix: str


@dataclass(frozen=True)
class Row:
    component: str
    tool: str
    why: str
    ram_gb: float | None  # None: not counted here (runs elsewhere, or unknown)


@dataclass
class LLMServer:
    """What the LLM server said: `models` and `loaded` as {"name", "size_gb", ...}; `error` when unreachable."""

    kind: str
    url: str
    reachable: bool = False
    version: str = ""
    models: list[dict] = field(default_factory=list)
    loaded: list[dict] = field(default_factory=list)
    error: str = ""

    def model(self, name: str) -> dict | None:
        """The server's entry for `name`, Ollama's default tag understood ("llama3.2" is "llama3.2:latest")."""
        return next((model for model in self.models if _tagged(model["name"]) == _tagged(name)), None)


@dataclass(frozen=True)
class Report:
    rows: list[Row]
    ram_gb: float  # the plan's RAM
    gpu_gb: float  # the plan's memory on a discrete GPU
    hardware: HardwareProfile
    llm_server: LLMServer
    findings: list[Finding]
    auto: list[str] = field(default_factory=list)  # "setting = auto: model, because ..." for each model auto chose

    @property
    def ok(self) -> bool:
        return not any(finding.level == "error" for finding in self.findings)


def run_doctor(settings: Settings, as_json: bool = False, profile: HardwareProfile | None = None) -> int:
    """Print the plan (Markdown, or JSON with `as_json`); 0 when it can run, 1 when something blocks it."""
    report = examine(settings, profile)
    typer.echo(json.dumps(as_data(report), ensure_ascii=False, indent=2) if as_json else render(report))
    return 0 if report.ok else 1


def examine(settings: Settings, profile: HardwareProfile | None = None) -> Report:
    """Gather the facts and the findings; `profile` stands in for the hardware probe (tests)."""
    findings = _vault_findings(settings)
    data_dir = _data_dir(settings)
    profile = profile or probe(data_dir)
    catalogue = load_catalogue()
    server = _ollama(settings) if settings.llm.backend == "ollama" else _openai(settings)
    settings, auto = _resolved(settings, profile, server)
    findings += _server_findings(settings, server)
    memory, daemon_gb = _memory_row(settings, catalogue, data_dir)
    ram, weights, quant = _llm_size(settings, catalogue, server)
    room = budget(profile, catalogue, daemon_gb)
    where = placement(ram, room) if ram is not None else None
    findings += _fit_findings(settings, catalogue, profile, ram, weights, where, room)
    holder = read_lock_holder(data_dir / "writer.lock") if data_dir else {}
    rows = [_inference_row(settings, server, quant, ram, where, room), memory, _interface_row(settings),
            _automation_row(settings, holder)]
    on_gpu = where == "gpu" and profile.vram_gb > 0  # Apple's unified memory is RAM
    ram_gb, gpu_gb = daemon_gb + (0.0 if on_gpu else ram or 0.0), (ram or 0.0) if on_gpu else 0.0
    findings += _disk_findings(profile, data_dir) + _port_findings(settings, holder)
    if profile.ram_available_gb is not None and ram_gb > profile.ram_available_gb:
        findings.append(Finding("warning", f"the plan needs about {ram_gb:.1f} GB of RAM and "
                                           f"{profile.ram_available_gb:.1f} GB are free now",
                                "close other programs, or choose a smaller llm.model"))
    return Report(rows, ram_gb, gpu_gb, profile, server, findings, auto)


def render(report: Report) -> str:
    """The report as Markdown: the plan's table, the total against the RAM, then the findings."""
    hw = report.hardware
    lines = ["## vaultrag doctor: the plan for this machine", "",
             "| Component | Tool | Why | Estimated RAM |", "| --- | --- | --- | --- |"]
    lines += [f"| {row.component} | {_cell(row.tool)} | {_cell(row.why)} | "
              f"{'-' if row.ram_gb is None else f'{row.ram_gb:.1f} GB'} |" for row in report.rows]
    gpu = f" and {report.gpu_gb:.1f} GB of GPU memory" if report.gpu_gb else ""
    free = f"{hw.ram_available_gb:.1f} GB of {hw.ram_total_gb:.1f} GB" if hw.ram_available_gb is not None \
        else f"{hw.ram_total_gb:.1f} GB"
    gpus = ", ".join(f"{gpu.name} ({gpu.memory_total_gb:.1f} GB{' unified' if gpu.unified else ''})"
                     for gpu in hw.gpus) or "no GPU"
    lines += ["", f"**Total: about {report.ram_gb:.1f} GB of RAM{gpu}**; RAM available now: {free}.",
              f"Machine: {hw.os} {hw.arch}, {hw.cores_physical} cores ({hw.cores_logical} threads), {gpus}.", ""]
    lines += [f"- {line}" for line in report.auto] + ([""] if report.auto else [])
    for finding in report.findings:
        lines.append(f"- **{finding.level}**: {finding.problem}. Fix: {finding.fix}.")
    lines.append(("" if not report.findings else "\n")
                 + ("Ready: the plan can run." if report.ok else "Blocked: fix the errors above, then run "
                                                                 "`vaultrag doctor` again."))
    return "\n".join(lines)


def as_data(report: Report) -> dict:
    """The report as JSON-ready data, with the same content as `render`."""
    return {"ok": report.ok,
            "plan": [asdict(row) | {"ram_gb": _round(row.ram_gb)} for row in report.rows],
            "total": {"ram_gb": _round(report.ram_gb), "gpu_gb": _round(report.gpu_gb),
                      "ram_available_gb": _round(report.hardware.ram_available_gb),
                      "ram_total_gb": _round(report.hardware.ram_total_gb)},
            "hardware": asdict(report.hardware), "llm_server": asdict(report.llm_server),
            "findings": [asdict(finding) for finding in report.findings], "auto": report.auto}


def _resolved(settings: Settings, profile: HardwareProfile, server: LLMServer) -> tuple[Settings, list[str]]:
    """`settings` with `auto` models chosen (with the models Ollama has), and a line for each choice."""
    installed = [model["name"] for model in server.models] if server.kind == "ollama" else None
    resolved, choice = resolve_models(settings, profile, installed)
    return resolved, [f"{key} = auto: {model}, because {reason}" for key, was, model, reason in (
        ("embedding.model", settings.embedding.model, choice.embedding_model, choice.embedding_reason),
        ("llm.model", settings.llm.model, choice.llm_model, choice.llm_reason)) if was == AUTO]


def _vault_findings(settings: Settings) -> list[Finding]:
    try:
        vault = settings.vault_path
    except VaultragError as exc:
        return [Finding("error", "no vault is configured", str(exc).split(": ", 1)[-1])]
    fix = "pass --vault with your Obsidian vault's folder, or set vault.path in the config file"
    if not vault.exists():
        return [Finding("error", f"the vault {vault} does not exist", fix)]
    if not vault.is_dir():
        return [Finding("error", f"the vault {vault} is not a folder", fix)]
    try:
        with os.scandir(vault) as entries:
            next(entries, None)
    except OSError as exc:
        return [Finding("error", f"the vault {vault} cannot be read ({exc.strerror})",
                        f"give this user read access: `chmod -R u+rX '{vault}'`")]
    return []


def _data_dir(settings: Settings) -> Path | None:
    try:
        return settings.data_dir
    except VaultragError:
        return None  # no vault, so no per-vault data dir


def _ollama(settings: Settings) -> LLMServer:
    server = LLMServer("ollama", make_backend("ollama", settings.llm.base_url).url)
    try:
        with httpx.Client(base_url=server.url, timeout=HTTP_TIMEOUT_S) as client:
            server.version = client.get("/api/version").raise_for_status().json().get("version", "")
            tags = client.get("/api/tags").raise_for_status().json().get("models") or []
            running = client.get("/api/ps").raise_for_status().json().get("models") or []
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        server.error = _oneline(exc)
        return server
    server.reachable = True
    server.models = [{"name": tag.get("model") or tag.get("name", ""), "size_gb": tag.get("size", 0) / GIB,
                      "quantization": (tag.get("details") or {}).get("quantization_level", ""),
                      "parameters": (tag.get("details") or {}).get("parameter_size", "")} for tag in tags]
    server.loaded = [{"name": model.get("model") or model.get("name", ""), "size_gb": model.get("size", 0) / GIB,
                      "vram_gb": model.get("size_vram", 0) / GIB} for model in running]
    return server


def _openai(settings: Settings) -> LLMServer:
    server = LLMServer("openai", settings.llm.base_url.rstrip("/"))
    headers = {"Authorization": f"Bearer {settings.llm.api_key}"} if settings.llm.api_key else {}
    try:
        listed = httpx.get(f"{server.url}/models", headers=headers, timeout=HTTP_TIMEOUT_S).raise_for_status().json()
        server.models = [{"name": model["id"]} for model in listed.get("data") or []]
    except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError) as exc:
        server.error = _oneline(exc)
        return server
    server.reachable = True
    return server


def _server_findings(settings: Settings, server: LLMServer) -> list[Finding]:
    model = settings.llm.model
    if server.kind == "openai":
        if not server.reachable:
            return [Finding("error", f"the OpenAI-compatible server at {server.url or '(llm.base_url is empty)'} "
                                     f"does not answer ({server.error})",
                            "start it (llama.cpp: `llama-server -m MODEL.gguf --port 8080`; LM Studio: start its "
                            "server), or set llm.base_url to its /v1 URL")]
        if not server.model(model):
            names = ", ".join(m["name"] for m in server.models[:5]) or "none"
            return [Finding("error", f"the server at {server.url} does not offer the model {model!r}",
                            f"set llm.model to one it lists ({names})")]
        return []
    if not server.reachable:
        local = server.url.split("://")[-1].split(":")[0] in ("127.0.0.1", "localhost", "::1", "[::1]")
        if local and shutil.which("ollama") is None:
            return [Finding("error", f"Ollama is not installed (no `ollama` on PATH) and nothing answers at "
                                     f"{server.url}", f"{OLLAMA_INSTALL}; then {OLLAMA_START}")]
        return [Finding("error", f"Ollama is not running at {server.url} ({server.error})",
                        f"{OLLAMA_START}; or set llm.base_url (or OLLAMA_HOST) to where it runs")]
    if server.model(model):
        return []
    if settings.llm.auto_pull:
        return [Finding("warning", f"Ollama does not have {model} yet; llm.auto_pull pulls it when vaultrag starts",
                        f"or pull it now: `ollama pull {model}`")]
    return [Finding("error", f"Ollama does not have the model {model}",
                    f"run `ollama pull {model}` (or set llm.auto_pull = true)")]


def _memory_row(settings: Settings, catalogue: Catalogue, data_dir: Path | None) -> tuple[Row, float]:
    """The retrieval side (vector store + embedding model) and the daemon's RAM in all."""
    embedding = catalogue.embedding(settings.embedding.model)
    index_gb = 0.0
    if not settings.store.url and data_dir and data_dir.is_dir():
        index_gb = sum(path.stat().st_size for path in data_dir.rglob("*.bin")) / GIB  # HNSW files, held in RAM
    store = f"Chroma server at {settings.store.url}" if settings.store.url else "ChromaDB (embedded)"
    name = embedding.name if embedding else f"{settings.embedding.model} (size unknown)"
    ram = daemon_ram_gb(catalogue, embedding, index_gb) if embedding else catalogue.runtime.vaultrag_base_gb + index_gb
    why = ("finds the passages of your notes that answer a question: vectors in the data dir"
           + (f"; {'multilingual' if embedding.multilingual else 'English'} text, {embedding.dimensions} dimensions"
              if embedding else ""))
    return Row("memory", f"{store} + {name}", why, ram), ram


def _llm_size(settings: Settings, catalogue: Catalogue, server: LLMServer) -> tuple[float | None, float, str]:
    """The LLM's RAM at llm.context_tokens (None: unknown), its weights and its quantization: from the catalogue,
    else from Ollama's list (weights and runner; the context cache is then not counted)."""
    model = settings.llm.model
    if entry := catalogue.llm(model):
        return entry.ram_gb(settings.llm.context_tokens), entry.size_gb, entry.quantization
    if server.kind == "ollama" and (pulled := server.model(model)):
        return pulled["size_gb"] + catalogue.runtime.ollama_overhead_gb, pulled["size_gb"], pulled["quantization"]
    return None, 0.0, ""


def _inference_row(settings: Settings, server: LLMServer, quant: str, ram: float | None, where: str | None,
                   room: Budget) -> Row:
    model = settings.llm.model
    tool = (f"Ollama {server.version}".rstrip() if server.kind == "ollama" else "OpenAI-compatible server") \
        + ("" if server.reachable else " (not answering)") + f" + {model}" + (f" ({quant})" if quant else "")
    if any(_tagged(loaded["name"]) == _tagged(model) for loaded in server.loaded):
        tool += ", loaded now"
    why = "writes the answers from the excerpts of your notes; " + (
        "its size is unknown to vaultrag" if ram is None else describe(where, room) if where
        else "does not fit this machine")
    return Row("inference", tool, why, ram)


def _fit_findings(settings: Settings, catalogue: Catalogue, profile: HardwareProfile, ram: float | None,
                  weights: float, where: str | None, room: Budget) -> list[Finding]:
    """The LLM does not fit (an error), or fits only on the CPU at a size that makes answers slow (a warning)."""
    model, context = settings.llm.model, settings.llm.context_tokens
    slow = where == "cpu" and weights > CPU_MAX_WEIGHTS_GB
    if ram is None or (where and not slow):
        return []
    smaller = smaller_fit(model, profile, catalogue, context_tokens=context, reserved_gb=room.reserved_gb)
    if slow:
        return [Finding("warning", f"{model} runs on the CPU with {weights:.1f} GB of weights: expect slow answers "
                                   "(a few tokens per second)",
                        f"for quicker answers set llm.model = \"{smaller.model}\"" if smaller
                        else "use a machine with a GPU")]
    return [Finding("error", f"{model} needs about {ram:.1f} GB at {context} tokens of context, more than this "
                             f"machine can give it ({max(room.gpu_gb, room.ram_gb):.1f} GB)",
                    f"set llm.model = \"{smaller.model}\" (`ollama pull {smaller.model}`): {smaller.reason}"
                    if smaller else "lower llm.context_tokens, or use a machine with more memory")]


def _interface_row(settings: Settings) -> Row:
    key = ("server.api_key is set: give it to Open WebUI as the API key" if settings.server.api_key
           else "no server.api_key: give Open WebUI any key (the daemon listens on loopback only)"
           if settings.server.is_loopback else "no server.api_key: `vaultrag serve` refuses this address without one")
    return Row("interface", f"Open WebUI -> {settings.server.base_url}/v1",
               f"chat in the browser, with sources (Admin Settings > Connections > OpenAI API); {key}", None)


def _automation_row(settings: Settings, holder: dict) -> Row:
    try:
        service = system_service.status()
        state = (f"user service installed ({service.active})" if service.installed
                 else "user service not installed (`vaultrag service install` starts vaultrag at login)")
    except (VaultragError, OSError) as exc:
        state = f"user service unavailable ({exc})"
    watch = settings.watch
    watcher = f"watcher: {watch.mode}" + (f", every {watch.poll_seconds:g} s" if watch.mode == "polling" else "") \
        + (f", full sweep every {watch.sweep_minutes:g} min" if watch.sweep_minutes else "")
    running = f"; daemon running (pid {holder['pid']})" if _alive(holder) else ""
    return Row("automation", f"{state}; {watcher}{running}",
               "keeps the index in step with the vault as you write, and the daemon running", None)


def _disk_findings(profile: HardwareProfile, data_dir: Path | None) -> list[Finding]:
    free, total = profile.disk_free_gb, profile.disk_total_gb
    if free is None or not total or (free >= DISK_MIN_GB and free / total >= DISK_MIN_SHARE):
        return []
    where = f"the data dir ({data_dir})" if data_dir else "your home folder"
    return [Finding("warning", f"the disk holding {where} has {free:.1f} GB free ({free / total:.0%})",
                    "free some space, or move the index to a roomier disk with data.dir")]


def _port_findings(settings: Settings, holder: dict) -> list[Finding]:
    """Whether the daemon could bind its address; a vaultrag daemon of this vault holding it is fine."""
    host, port = settings.server.host, settings.server.port
    try:
        family, kind, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind) as probe_socket:
            probe_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            probe_socket.bind(address)
        return []
    except OSError as exc:
        if holder.get("port") == port and _alive(holder):
            return []
        busy = exc.errno == errno.EADDRINUSE
        return [Finding("error", f"port {port} on {host} " + ("is in use by another program" if busy
                                                              else f"cannot be bound ({exc.strerror or exc})"),
                        f"stop that program, or choose another port: server.port = {port + 1} in the config file "
                        f"or `vaultrag serve --port {port + 1}`" if busy else "check server.host")]


def _alive(holder: dict) -> bool:
    pid = holder.get("pid")
    return isinstance(pid, int) and psutil.pid_exists(pid)


def _tagged(name: str) -> str:
    """Ollama's default tag: "llama3.2" is "llama3.2:latest"."""
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _oneline(exc: Exception) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
