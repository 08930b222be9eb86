"""`auto` models, resolved once when a vaultrag command starts: the vault's languages (ingest.languages), this
machine (config.hardware) and the catalogue pick `embedding.model` and `llm.model` through config.selection.

`resolve_models` returns settings that name the chosen models, and the choice with its reasons for the log,
`/api/status` and `vaultrag doctor`. Nothing is chosen again while the process runs. An embedding model other than
the one the index was built with means a full rebuild into a new index, which the current one serves until it is
complete (ingest.pipeline). So that a vault near a threshold (say 15 % Spanish) does not rebuild back and forth,
`auto` keeps the index's model while it still suits the vault's languages and the machine.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

from vaultrag.config.catalogue import Catalogue, load_catalogue
from vaultrag.config.errors import ConfigError, VaultragError
from vaultrag.config.hardware import HardwareProfile, probe
from vaultrag.config.selection import Choice, choose_embedding, choose_llm, daemon_ram_gb
from vaultrag.config.settings import Settings
from vaultrag.ingest.embedders import AUTO, catalogue_name, loadable_offline, ollama_base_url
from vaultrag.ingest.index import DataDir
from vaultrag.ingest.languages import VaultLanguages, detect_languages
from vaultrag.service.llm.factory import make_backend
from vaultrag.service.ops.provider_choice import choose_provider

log = logging.getLogger(__name__)
OLLAMA_TIMEOUT_S = 3


@dataclass(frozen=True)
class ModelChoice:
    """The models a command runs with, and why: `auto`'s reasons, or that the settings name them."""

    embedding_model: str
    embedding_reason: str
    llm_model: str
    llm_reason: str


def resolve_models(settings: Settings, profile: HardwareProfile | None = None,
                   installed: list[str] | None = None) -> tuple[Settings, ModelChoice]:
    """`settings` with `auto` replaced by the models chosen, and the choice. `profile` stands in for the hardware
    probe and `installed` for Ollama's list of models (tests, and `doctor`, which has asked Ollama already)."""
    embedding, llm, provider = settings.embedding.model, settings.llm.model, settings.embedding.provider
    choice = ModelChoice(embedding, "set in the settings (embedding.model)", llm, "set in the settings (llm.model)")
    if AUTO not in (embedding, llm, provider):
        return settings, choice
    catalogue = load_catalogue()
    profile = profile or probe(_data_dir(settings))
    languages = _languages(settings)
    codes = set(languages.main) if languages else set()
    found = f"vault languages: {languages.describe()}" if languages else "vault unknown: English assumed"
    if embedding == AUTO:
        picked = _embedding(settings, profile, catalogue, codes, languages.notes_total if languages else 0)
        embedding = picked.model
        choice = replace(choice, embedding_model=embedding, embedding_reason=_told("embedding model", picked, found))
    precision = settings.embedding.precision
    if provider == AUTO:
        indexed = _indexed_id(settings)
        multilingual = bool(codes - {"en"})
        wanted = not indexed and settings.embedding.model == AUTO and (multilingual or profile.accelerator != "cpu")
        asked = installed if installed is not None or not wanted else _ollama_models(settings)
        where = choose_provider(settings, profile, catalogue, embedding, multilingual, asked, indexed)
        provider, precision = where.provider, where.precision
        if where.reason:
            reason = choice.embedding_reason if where.model == embedding else "chosen for where it runs"
            embedding = where.model
            log.info("embedding provider %s (%s), chosen by auto: %s", provider, precision, where.reason)
            choice = replace(choice, embedding_model=embedding, embedding_reason=f"{reason}; embedding.provider = "
                             f"auto: {provider}{f' ({precision})' if provider == 'onnx' else ''}, because {where.reason}")
    if llm == AUTO:
        picked = _llm(settings, profile, catalogue, codes, embedding, installed)
        llm = picked.model
        choice = replace(choice, llm_model=llm, llm_reason=_told("LLM", picked, found))
    resolved = settings.model_copy(update={
        "embedding": settings.embedding.model_copy(update={"model": embedding, "provider": provider,
                                                           "precision": precision}),
        "llm": settings.llm.model_copy(update={"model": llm})})
    return resolved, choice


def _ollama_models(settings: Settings) -> list[str]:
    """The models Ollama has (none when it does not answer): auto may use an embedding model among them."""
    backend = make_backend("ollama", ollama_base_url(settings), timeout_s=OLLAMA_TIMEOUT_S)
    try:
        return backend.models()
    except VaultragError:
        return []


def _embedding(settings: Settings, profile: HardwareProfile, catalogue: Catalogue, languages: set[str],
               notes: int) -> Choice:
    """The best embedding model, or the index's own while it still suits (it is on disk and fits)."""
    picked = choose_embedding(profile, catalogue, languages, available=loadable_offline(catalogue), notes=notes)
    indexed = _indexed_model(settings)
    if indexed is None or indexed == picked.model:
        return picked
    if catalogue.embedding(indexed):
        kept = choose_embedding(profile, catalogue, languages, available={indexed})
        if kept.model == indexed and kept.fits:
            return Choice(indexed, f"the index is built with {indexed}, which still suits, so it is kept "
                                   f"(no rebuild); {kept.reason}", kept.ram_gb)
    log.info("auto now picks the embedding model %s instead of %s, which built the current index: indexing builds a "
             "new index with it, and the current one serves searches until that is complete", picked.model, indexed)
    return picked


def _llm(settings: Settings, profile: HardwareProfile, catalogue: Catalogue, languages: set[str], embedding: str,
         installed: list[str] | None) -> Choice:
    if settings.llm.backend != "ollama":
        raise ConfigError('llm.model = "auto" chooses among Ollama models; with llm.backend = "openai", set '
                          "llm.model to a model your server offers")
    unasked = ""
    if installed is None:
        backend = make_backend("ollama", settings.llm.base_url, timeout_s=OLLAMA_TIMEOUT_S)
        try:
            installed = backend.models()
        except VaultragError:
            installed = []
            unasked = f" (Ollama did not answer at {backend.url}, so the models it has were not considered)"
    reserved = daemon_ram_gb(catalogue, catalogue.embedding(embedding))
    picked = choose_llm(profile, catalogue, installed, languages, context_tokens=settings.llm.context_tokens,
                        reserved_gb=reserved)
    return Choice(picked.model, picked.reason + unasked, picked.ram_gb, picked.fits)


def _told(what: str, picked: Choice, languages: str) -> str:
    """The reason for `picked`, logged (a warning when nothing fits and this is the smallest model that suits)."""
    reason = f"{picked.reason}; {languages}"
    log.log(logging.INFO if picked.fits else logging.WARNING, "%s %s, chosen by auto: %s", what, picked.model, reason)
    return reason


def _languages(settings: Settings) -> VaultLanguages | None:
    try:
        vault = settings.vault_path
    except VaultragError:
        return None
    if not vault.is_dir():
        return None
    return detect_languages(vault, settings.vault.include, settings.vault.exclude, settings.vault.obsidian_ignore)


def _indexed_model(settings: Settings) -> str | None:
    """The catalogue name of the model that built the vault's active index, if there is one."""
    model_id = _indexed_id(settings)
    return catalogue_name(model_id) if model_id else None


def _indexed_id(settings: Settings) -> str | None:
    """The model id the vault's active index records (its provider's prefix included), if there is one."""
    data_dir = _data_dir(settings)
    if data_dir is None or not data_dir.is_dir():
        return None
    return DataDir(data_dir, settings.store.url).active_model_id()


def _data_dir(settings: Settings) -> Path | None:
    try:
        return settings.data_dir
    except VaultragError:
        return None
