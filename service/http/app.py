"""The daemon's FastAPI app and its lifecycle: start writer -> watcher -> planner pool -> model preload; stop in
reverse."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from vaultrag.config.errors import VaultragError
from vaultrag.config.settings import Settings
from vaultrag.ingest.pipeline import VaultIndexer
from vaultrag.ingest.watcher import VaultWatcher
from vaultrag.service.http import errors as api_errors
from vaultrag.service.http import mcp_routes as mcp_api
from vaultrag.service.http import open_routes as note_links
from vaultrag.service.http import openai_routes as openai_api
from vaultrag.service.http import search_routes as search_api
from vaultrag.service.http import security
from vaultrag.service.http import status_routes as status_api
from vaultrag.service.http.openai_models import SCHEMA_MODELS
from vaultrag.service.http import tool_routes as tool_api
from vaultrag.service.answering.chat import ChatService
from vaultrag.service.daemon.index_writer import IndexWriter
from vaultrag.service.ops.model_choice import ModelChoice
from vaultrag.service.search.searcher import Searcher
from vaultrag.service.daemon.status import IndexStatus
from vaultrag.service.tools.mcp_server import build_mcp_server
from vaultrag.service.tools.vault_tools import VaultTools

log = logging.getLogger(__name__)
PLANNERS = 4  # answers planned at once (retrieval and the follow-up rewrite); more wait in the pool's queue


def create_app(settings: Settings, indexer: VaultIndexer, llm_backend=None,
               choice: ModelChoice | None = None) -> FastAPI:
    """An app for a vault whose writer lock `indexer` already holds (so a second daemon never gets this far).
    `llm_backend` replaces the configured LLM backend (the settings pick it otherwise); `choice` says why the
    settings name their models (service.model_choice), for `/api/status`."""
    status = IndexStatus(vault=str(indexer.vault), embedding_model=indexer.model.model_id, llm_model=settings.llm.model,
                         embedding_choice_reason=choice.embedding_reason if choice else "",
                         llm_choice_reason=choice.llm_reason if choice else "")
    writer = IndexWriter(indexer, status, sweep_seconds=settings.watch.sweep_minutes * 60)
    watcher = VaultWatcher(indexer.vault, writer.request_sync, mode=settings.watch.mode,
                           poll_interval_s=settings.watch.poll_seconds)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        writer.start()
        watcher.start()
        status.update(watch_mode=watcher.mode_used)
        app.state.planner = ThreadPoolExecutor(max_workers=PLANNERS, thread_name_prefix="answer-plan")
        log.info("watching %s (%s events)", indexer.vault, watcher.mode_used)
        threading.Thread(target=_preload, args=(indexer,), name="model-preload", daemon=True).start()
        threading.Thread(target=_check_llm, args=(app.state.chat.backend, settings.llm.model), name="llm-check",
                         daemon=True).start()
        try:
            async with run_mcp_sessions():
                yield
        finally:
            log.info("shutting down: stopping the watcher, then the index writer")
            app.state.planner.shutdown(wait=False, cancel_futures=True)  # queued plans are dropped, none waited on
            watcher.stop()
            writer.stop()
            app.state.searcher.close()

    # No /docs or /redoc: their pages load Swagger UI from a CDN. The schema stays at /openapi.json.
    app = FastAPI(title="vaultrag", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.started = time.time()
    app.state.vault = indexer.vault
    app.state.status = status
    app.state.writer = writer
    app.state.searcher = Searcher(settings, indexer.embedder)
    app.state.chat = ChatService(settings, app.state.searcher, indexer.embedder, llm_backend)
    app.state.settings = settings
    app.state.tools = VaultTools(settings, app.state.searcher, lambda path: writer.sync_now({path}))
    for module in (status_api, search_api, openai_api, note_links, tool_api):
        app.include_router(module.router)
    run_mcp_sessions = mcp_api.install(app, build_mcp_server(list(app.state.tools.specs.values()),
                                                             app.state.tools.call))
    api_errors.install(app)
    security.install(app, settings.server)
    app.openapi = lambda: _openapi(app, settings)
    return app


def _openapi(app: FastAPI, settings: Settings) -> dict:
    """The OpenAPI schema as the API really behaves: bodies read by hand, OpenAI's errors, the API key."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
        schema.setdefault("components", {}).setdefault("schemas", {}).update(
            api_errors.component_schemas(*SCHEMA_MODELS))
        app.openapi_schema = security.document(api_errors.document(schema), settings.server)
    return app.openapi_schema


def _check_llm(backend, model: str) -> None:
    """Say at start whether the LLM can answer (pulling the model with llm.auto_pull); answers wait for nothing."""
    try:
        backend.ensure_model(model)
        log.info("LLM ready: %s (%s)", model, backend.name)
    except VaultragError as exc:
        log.warning("LLM not ready: %s", exc)


def _preload(indexer: VaultIndexer) -> None:
    """Load the embedding model off the request path, so the first search does not wait for it."""
    try:
        indexer.embedder.dimension
    except Exception:
        log.exception("the embedding model failed to load")
