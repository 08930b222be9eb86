"""The parts of a `vaultrag doctor` report: findings, the plan's rows, what the LLM server said, the report itself."""

from __future__ import annotations

from dataclasses import dataclass, field

from vaultrag.config.hardware import HardwareProfile


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
        return next((model for model in self.models if tagged(model["name"]) == tagged(name)), None)


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


def tagged(name: str) -> str:
    """Ollama's default tag: "llama3.2" is "llama3.2:latest"."""
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def oneline(exc: Exception) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
