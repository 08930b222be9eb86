"""Scopes: `[scopes]` settings become models `vaultrag:<name>` whose searches never leave the scope, whatever the
question's own filters say; a scope that is not only filters stops the daemon with a message naming it."""

from __future__ import annotations

import pytest

from vaultrag.config.errors import ConfigError
from vaultrag.ingest.pipeline import sync_vault
from vaultrag.service.answering.chat import ChatService
from vaultrag.service.search.scopes import load_scopes
from vaultrag.service.search.searcher import Searcher

NOTES = {
    "Work/Launch.md": "---\ntags: [project]\n---\nThe launch budget is 40k; the press kit is due in March.",
    "Work/Lunch.md": "The team lunch budget is 20 euros a head.",
    "Personal/Bank.md": "---\ntags: [project]\n---\nMy personal budget: rent, savings and the bank PIN hint.",
}


@pytest.fixture
def scoped(write_vault, settings_for, embedder):
    settings = settings_for(write_vault(NOTES), **{"retrieval.reranker": "off"})
    settings = settings.model_copy(update={"scopes": {"work": "path:Work/ tag:project", "all-work": "path:Work/"}})
    sync_vault(settings, embedder=embedder)
    searcher = Searcher(settings, embedder)
    yield settings, searcher
    searcher.close()


def test_scope_search_stays_inside_whatever_the_question_says(scoped):
    settings, searcher = scoped
    scopes = load_scopes(settings)
    assert {r.path for r in searcher.search("personal budget", 10, scope=scopes["all-work"])} == {
        "Work/Launch.md", "Work/Lunch.md"}
    assert [r.path for r in searcher.search("budget", 10, scope=scopes["work"])] == ["Work/Launch.md"]  # path and tag
    assert searcher.search("budget path:Personal/", 10, scope=scopes["work"]) == []  # an inline filter cannot escape
    assert "Personal/Bank.md" in {r.path for r in searcher.search("personal budget", 10)}  # unscoped, it is found


def test_scopes_are_models(scoped, embedder):
    settings, searcher = scoped
    chat = ChatService(settings, searcher, embedder)
    assert chat.model_ids()[-2:] == ["vaultrag:work", "vaultrag:all-work"]
    assert chat.llm_for("vaultrag:work") == settings.llm.model
    assert chat.scope_for("vaultrag:work").tags == ("project",) and chat.scope_for("vaultrag") is None
    with pytest.raises(Exception, match="vaultrag:home"):
        chat.llm_for("vaultrag:home")


@pytest.mark.parametrize("written, message", [
    ("Work/", "a scope is only filters"), ("path:Work/ budget", "'budget' is none"),
    ("after:yesterday", "is not a date"), ("", "a scope is only filters")])
def test_a_bad_scope_is_named(scoped, written, message):
    settings = scoped[0].model_copy(update={"scopes": {"work": written}})
    with pytest.raises(ConfigError, match=f"scopes.work = {written!r}.*{message}"):
        load_scopes(settings)
