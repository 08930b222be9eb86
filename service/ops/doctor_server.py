"""What `vaultrag doctor` learns from the LLM server, asked through the backend answers use, and what blocks it."""

from __future__ import annotations

import shutil

from vaultrag.config.errors import ConfigError
from vaultrag.config.hardware import GIB
from vaultrag.config.settings import Settings
from vaultrag.service.llm.base import LLMError, LLMUnavailable
from vaultrag.service.llm.factory import make_backend
from vaultrag.service.ops.doctor_report import Finding, LLMServer, oneline

HTTP_TIMEOUT_S = 3
OLLAMA_INSTALL = "install it from https://ollama.com/download (Linux: `curl -fsSL https://ollama.com/install.sh | sh`)"
OLLAMA_START = "start it: `ollama serve`, or open the Ollama app (a Linux install: `sudo systemctl start ollama`)"


def ask_server(settings: Settings) -> LLMServer:
    """The server named by llm.backend and llm.base_url (Ollama: its version, models with sizes, loaded models;
    an OpenAI-compatible server: its model list), or why it did not answer."""
    try:
        backend = make_backend(settings.llm.backend, settings.llm.base_url, api_key=settings.llm.api_key,
                               timeout_s=HTTP_TIMEOUT_S)
    except ConfigError as exc:  # backend "openai" without llm.base_url
        return LLMServer(settings.llm.backend, settings.llm.base_url.rstrip("/"), error=oneline(exc))
    server = LLMServer(backend.name, backend.url)
    try:
        inventory = backend.inventory()
    except LLMError as exc:
        # Unreachable: the transport's own words; the backend's message repeats the URL and how to start it,
        # which the finding says already.
        server.error = oneline(exc.__cause__ if isinstance(exc, LLMUnavailable) and exc.__cause__ else exc)
        return server
    server.reachable, server.version = True, inventory.version
    sized = server.kind == "ollama"  # the OpenAI API lists names only
    server.models = [{"name": model.name} | ({"size_gb": model.size_bytes / GIB, "quantization": model.quantization,
                                              "parameters": model.parameters} if sized else {})
                     for model in inventory.models]
    server.loaded = [{"name": model.name, "size_gb": model.size_bytes / GIB, "vram_gb": model.vram_bytes / GIB}
                     for model in inventory.loaded]
    return server


def server_findings(settings: Settings, server: LLMServer) -> list[Finding]:
    """The server does not answer, is not installed, or lacks llm.model (with auto_pull only a warning)."""
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
