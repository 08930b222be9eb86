"""The writer side of one vault's index: take the writer lock, open the index of the configured model, sync it,
and make it the active index once complete (dropping the previous model's index)."""

from __future__ import annotations

import logging
import threading

from vaultrag.config.errors import ConfigError
from vaultrag.config.settings import Settings
from vaultrag.ingest.embedders import TextEmbedder, configured_embedder
from vaultrag.ingest.index import DataDir, Index, collection_name
from vaultrag.ingest.isolation import ParseLimits
from vaultrag.ingest.kinds import IMAGE_SUFFIXES
from vaultrag.ingest.ocr import ocr_version
from vaultrag.ingest.sync import Progress, SyncOptions, Syncer, SyncSummary
from vaultrag.ingest.writer_lock import WriterLock

log = logging.getLogger(__name__)


def sync_options(settings: Settings, max_seq_length: int, special_tokens: int) -> SyncOptions:
    limit = max_seq_length - special_tokens
    budget = min(settings.embedding.chunk_tokens, limit) if settings.embedding.chunk_tokens else limit
    vault = settings.vault
    ocr = vault.ocr and ocr_version() is not None
    include = [glob for glob in vault.include if ocr or not glob.lower().endswith(IMAGE_SUFFIXES)]
    if len(include) < len(vault.include):
        log.info("images are not indexed: no OCR engine (install vaultrag[ocr] to read the text in them)")
    limits = ParseLimits(max_bytes=int(vault.max_pdf_mb * 1_000_000), max_pages=vault.max_pdf_pages,
                         timeout_s=vault.parse_timeout_s, memory_mb=vault.parse_memory_mb, ocr=ocr,
                         ocr_page_timeout_s=vault.ocr_page_timeout_s, ocr_file_timeout_s=vault.ocr_file_timeout_s)
    return SyncOptions(include=include, exclude=list(vault.exclude),
                       obsidian_ignore=vault.obsidian_ignore, max_bytes=vault.max_bytes, chunk_tokens=budget,
                       min_chunk_tokens=settings.embedding.min_chunk_tokens, limits=limits)


class VaultIndexer:
    """`with VaultIndexer(settings) as indexer: indexer.sync()`: the only writer of this vault's index while open.

    `embedder` may be passed to share a loaded model; `lock_info` is recorded in the lock file for a second process
    to read (the daemon puts its port there).
    """

    def __init__(self, settings: Settings, embedder: TextEmbedder | None = None, **lock_info):
        self.vault = settings.vault_path
        if not self.vault.is_dir():
            raise ConfigError(f"vault {self.vault} does not exist or is not a folder (vault.path / --vault)")
        self.embedder = embedder or configured_embedder(settings)
        self.model = self.embedder.files
        self.data = DataDir(settings.data_dir, settings.store.url)
        self._settings = settings
        self._options: SyncOptions | None = None  # on the first sync: a server's context is asked for only then
        self._lock: WriterLock = self.data.writer_lock(vault=str(self.vault), **lock_info)
        self._index: Index | None = None
        self._handed_over = False
        self._closed = False
        self._closing = threading.Lock()

    def __enter__(self) -> "VaultIndexer":
        self._lock.__enter__()
        try:
            name = collection_name(self.vault, self.model.model_id)
            previous = self.data.active_name()
            if (previous and previous != name and not self.data.manifest_path(name).is_file()
                    and self.data.active_model_id() == self.model.model_id):
                name = previous  # this model's index here, named from another spelling of the vault's path
            if previous and previous != name:
                log.info("embedding model changed to %s: building a new index; the current one serves until it is "
                         "complete", self.model.model_id)
            self._index = self.data.open_index(name, self.model.model_id)
            if previous is None:  # the first index: searchable as it grows, not only once whole
                self.data.set_active(name)
        except BaseException:
            self._lock.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *_) -> None:
        if not self._handed_over:
            self.close()

    def hand_over(self) -> None:
        """From now on the caller (the daemon's writer thread) closes this indexer, once it has stopped writing;
        leaving the `with` block no longer does, so the manifest and lock are never released under a live writer."""
        self._handed_over = True

    def close(self) -> None:
        """Close the index and release the writer lock (once)."""
        with self._closing:
            if self._closed:
                return
            self._closed = True
            if self._index is not None:
                self._index.close()
                self._index = None
            self._lock.__exit__(None, None, None)

    @property
    def index(self) -> Index:
        assert self._index is not None, "use VaultIndexer in a with block"
        return self._index

    def sync(self, progress: Progress | None = None, stop: threading.Event | None = None,
             paths: set[str] | None = None) -> SyncSummary:
        """One sync: of the whole vault, or only of `paths` (a watcher batch; see Syncer.run)."""
        if self._options is None:
            self._options = sync_options(self._settings, self.model.max_seq_length, self.model.tokens.special_tokens)
        with self.data.guard():  # a full or read-only data dir is said as such, naming it
            summary = Syncer(self.vault, self.index, self.model, self.embedder, self._options).run(progress, stop,
                                                                                                  paths)
        previous = self.data.active_name()
        if previous != self.index.name and summary.complete and paths is None:  # a new model's index: once whole
            self.data.set_active(self.index.name)
            if previous:
                self.data.drop_index(previous)
                log.info("switched to the new index for %s; the previous model's index was removed", self.model.model_id)
        return summary

    def forget(self, path: str | None = None) -> None:
        """Make the next sync redo `path` (or every file, checking the store against the manifest too)."""
        manifest = self.index.manifest
        with manifest.transaction():
            if path is None:
                manifest.mark_all_pending()
                manifest.set_meta("dirty", "1")
            else:
                manifest.mark_pending(path)
                manifest.delete_problem(path)


def sync_vault(settings: Settings, progress: Progress | None = None,
               embedder: TextEmbedder | None = None) -> SyncSummary:
    """Bring the index of `settings.vault` in step with the files, once."""
    with VaultIndexer(settings, embedder) as indexer:
        return indexer.sync(progress)
