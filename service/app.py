"""The daemon's FastAPI app and its lifecycle: start writer -> watcher -> model preload; stop in reverse."""

from __future__ import annotations

import logging
import threading
from contextlib import asynccontextmanager

from fastapi import FastAPI

from config.settings import Settings
from ingest.pipeline import VaultIndexer
from ingest.watcher import VaultWatcher
from service import search_api, status_api
from service.index_writer import IndexWriter
from service.retrieval import Searcher
from service.status import IndexStatus

log = logging.getLogger(__name__)


def create_app(settings: Settings, indexer: VaultIndexer) -> FastAPI:
    """An app for a vault whose writer lock `indexer` already holds (so a second daemon never gets this far)."""
    status = IndexStatus(vault=str(indexer.vault), embedding_model=indexer.model.model_id)
    writer = IndexWriter(indexer, status, sweep_seconds=settings.watch.sweep_minutes * 60)
    watcher = VaultWatcher(indexer.vault, writer.request_sync, mode=settings.watch.mode,
                           poll_interval_s=settings.watch.poll_seconds)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        writer.start()
        watcher.start()
        status.update(watch_mode=watcher.mode_used)
        log.info("watching %s (%s events)", indexer.vault, watcher.mode_used)
        threading.Thread(target=_preload, args=(indexer,), name="model-preload", daemon=True).start()
        try:
            yield
        finally:
            log.info("shutting down: stopping the watcher, then the index writer")
            watcher.stop()
            writer.stop()
            app.state.searcher.close()

    app = FastAPI(title="vaultrag", lifespan=lifespan)
    app.state.status = status
    app.state.writer = writer
    app.state.searcher = Searcher(settings, indexer.embedder)
    app.include_router(status_api.router)
    app.include_router(search_api.router)
    return app


def _preload(indexer: VaultIndexer) -> None:
    """Load the embedding model off the request path, so the first search does not wait for it."""
    try:
        indexer.embedder.dimension
    except Exception:
        log.exception("the embedding model failed to load")
