"""One call that indexes a vault as configured: take the writer lock, open the index of the configured model,
sync it, and make it the active index once complete (dropping the previous model's index)."""

from __future__ import annotations

import logging

from config.errors import ConfigError
from config.settings import Settings
from ingest.embedder import Embedder, locate_model
from ingest.index import DataDir, collection_name
from ingest.sync import Progress, SyncOptions, Syncer, SyncSummary

log = logging.getLogger(__name__)


def sync_options(settings: Settings, max_seq_length: int, special_tokens: int) -> SyncOptions:
    limit = max_seq_length - special_tokens
    budget = min(settings.embedding.chunk_tokens, limit) if settings.embedding.chunk_tokens else limit
    return SyncOptions(include=list(settings.vault.include), exclude=list(settings.vault.exclude),
                       obsidian_ignore=settings.vault.obsidian_ignore, max_bytes=settings.vault.max_bytes,
                       chunk_tokens=budget, min_chunk_tokens=settings.embedding.min_chunk_tokens)


def sync_vault(settings: Settings, progress: Progress | None = None, embedder: Embedder | None = None) -> SyncSummary:
    """Bring the index of `settings.vault` in step with the files. `embedder` may be passed to share a loaded model."""
    vault = settings.vault_path
    if not vault.is_dir():
        raise ConfigError(f"vault {vault} does not exist or is not a folder (vault.path / --vault)")
    model = embedder.files if embedder else locate_model(settings.embedding.model)
    embedder = embedder or Embedder(model, settings.embedding.device, settings.embedding.batch_size)
    data = DataDir(settings.data_dir, settings.store.url)
    with data.writer_lock(vault=str(vault)):
        name = collection_name(vault, model.model_id)
        previous = data.active_name()
        if previous and previous != name:
            log.info("embedding model changed to %s: building a new index; the current one serves until it is complete",
                     model.model_id)
        index = data.open_index(name, model.model_id)
        try:
            options = sync_options(settings, model.max_seq_length, model.tokens.special_tokens)
            summary = Syncer(vault, index, model, embedder, options).run(progress)
        finally:
            index.close()
        if previous != name:
            data.set_active(name)
            if previous:
                data.drop_index(previous)
                log.info("switched to the new index for %s; the previous model's index was removed", model.model_id)
    return summary
