"""`vaultrag ask`'s two ways to an answer: the running daemon's API, or retrieval and the LLM in this process.

Both print the answer as it streams and return the sources as (name, path, obsidian link), for one Sources list."""

from __future__ import annotations

from vaultrag.config.settings import Settings
from vaultrag.service.answering.answerer import SOURCES_HEADING
from vaultrag.service.cli.common import out
from vaultrag.service.daemon.client import Daemon
from vaultrag.service.search.links import NoteLinks

Sources = list[tuple[str, str, str]]


def answer_through(daemon: Daemon, question: str, settings: Settings) -> Sources:
    """The daemon answers with its own settings; the Sources list it appends to the text is printed here instead."""
    links = NoteLinks(settings.vault_path, settings.data_dir, settings.server.base_url)
    sources: Sources = []
    for event in daemon.answer(question):
        extra = event.get("event") or {}
        if extra.get("type") == "source":  # Open WebUI's citation, one per source, before the answer's text
            source = extra["data"]
            meta = source["metadata"][0]
            sources.append((source["source"]["name"], meta["path"], links.at_page(meta["path"], meta.get("page"))))
        for choice in event.get("choices", []):
            text = choice.get("delta", {}).get("content")
            if text and not text.startswith(SOURCES_HEADING):
                out.print(text, end="", highlight=False, markup=False)
    return sources


def answer_here(question: str, settings: Settings) -> Sources:
    from vaultrag.service.answering.answerer import Answerer
    from vaultrag.service.llm.base import ChatOptions
    from vaultrag.service.llm.factory import make_backend
    from vaultrag.service.ops.model_choice import resolve_models
    from vaultrag.service.search.searcher import Searcher

    settings, _ = resolve_models(settings)
    llm = settings.llm
    backend = make_backend(llm.backend, llm.base_url, llm.api_key, llm.keep_alive, llm.auto_pull)
    searcher = Searcher(settings)
    try:
        answerer = Answerer(settings, searcher, backend)
        plan = answerer.plan([{"role": "user", "content": question}], llm.model)
        options = ChatOptions(temperature=llm.temperature, max_tokens=llm.answer_tokens)
        for piece in answerer.stream(plan, llm.model, options, sources_list=False):
            if isinstance(piece, str):
                out.print(piece, end="", highlight=False, markup=False)
        return [(s.heading or s.title, s.path, s.obsidian_url) for s in plan.sources]
    finally:
        searcher.close()
