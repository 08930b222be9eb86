"""Hybrid retrieval as a user meets it: filters, notes named by title or alias, the per-note cap, modes, links,
neighbouring chunks and the optional reranker, over a real index (ChromaDB, MiniLM, the BM25 tables)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from vaultrag.ingest.pipeline import sync_vault
from vaultrag.service.search.filters import make_filters
from vaultrag.service.search.reranker import open_reranker
from vaultrag.service.search.searcher import Searcher

GARDEN = {
    "Garden/Tomatoes.md": "---\ntags: [garden/vegetables]\n---\nWater tomatoes deeply twice a week in summer.",
    "Garden/Roses.md": "---\ntags: [garden]\n---\nPrune roses in early spring and water them at the roots.",
    "Work/Launch plan.md": "---\ntags: [project]\n---\nThe product launch needs the press kit by March.",
    "Work/Office plants.md": "---\ntags: [project]\n---\nWater the office plants every Friday.",
    "Journal/2020-05-01.md": "Watered the balcony herbs today; basil is thriving.",
}


@pytest.fixture
def searcher_for(write_vault, settings_for, embedder):
    """searcher_for(files, **settings) -> a Searcher over that vault, indexed."""
    made = []

    def make(files: dict, **overrides) -> Searcher:
        vault = write_vault(files)
        old = vault / "Journal/2020-05-01.md"
        if old.exists():
            os.utime(old, (time.time() - 5 * 365 * 86400,) * 2)  # written five years ago
        settings = settings_for(vault, **{"retrieval.reranker": "off", **overrides})
        sync_vault(settings, embedder=embedder)
        made.append(Searcher(settings, embedder))
        return made[-1]

    yield make
    for searcher in made:
        searcher.close()


def _paths(results) -> list[str]:
    return [r.path for r in results]


def test_filters_by_tag_folder_and_date(searcher_for):
    searcher = searcher_for(GARDEN)
    garden = _paths(searcher.search("when to water", 10, filters=make_filters(tags=["garden"])))
    assert sorted(garden) == ["Garden/Roses.md", "Garden/Tomatoes.md"]  # #garden/vegetables is below #garden
    assert set(_paths(searcher.search("water", 10, filters=make_filters(path_prefix="work/")))) == {
        "Work/Launch plan.md", "Work/Office plants.md"}
    recent = _paths(searcher.search("watering plants", 10, filters=make_filters(modified_after="2024-01-01")))
    assert "Journal/2020-05-01.md" not in recent and len(recent) == 4
    assert searcher.search("water", 10, filters=make_filters(tags=["nonexistent"])) == []


def test_inline_filters_are_not_part_of_what_is_searched(searcher_for, embedder, monkeypatch):
    searcher = searcher_for(GARDEN)
    asked = []
    real = embedder.embed_query
    monkeypatch.setattr(embedder, "embed_query", lambda texts: asked.extend(texts) or real(texts))
    results = searcher.search("tag:project path:Work/ when is the launch", 10)
    assert asked == ["when is the launch"]
    assert _paths(results)[0] == "Work/Launch plan.md"
    assert set(_paths(results)) <= {"Work/Launch plan.md", "Work/Office plants.md"}


def test_a_question_naming_a_note_by_title_or_alias_finds_it_first(searcher_for):
    files = {**GARDEN, "People/Grace Hopper.md": "---\naliases: [Amazing Grace]\n---\nShe found a moth in the relay.",
             "Bugs.md": "Insects in the garden: aphids on roses, slugs eat lettuce, moths at night."}
    searcher = searcher_for(files)
    assert _paths(searcher.search("what do my notes say about grace hopper?", 3))[0] == "People/Grace Hopper.md"
    by_alias = searcher.search("what did Amazing Grace find", 3)
    assert by_alias[0].path == "People/Grace Hopper.md" and "title" in by_alias[0].found_by


def test_one_long_note_cannot_crowd_out_the_rest(searcher_for):
    long_note = "\n\n".join(f"## Watering part {n}\n" + "Water the tomatoes with rain water from the barrel. " * 30
                            for n in range(8))
    searcher = searcher_for({**GARDEN, "Garden/Watering handbook.md": long_note})
    results = searcher.search("watering tomatoes", 6)
    assert _paths(results).count("Garden/Watering handbook.md") == 2
    assert len(set(_paths(results))) >= 4
    uncapped = searcher.search("watering tomatoes", 6, per_note=0)
    assert _paths(uncapped).count("Garden/Watering handbook.md") > 2


def test_modes_find_exact_codes_by_words_and_paraphrases_by_meaning(searcher_for):
    searcher = searcher_for({**GARDEN, "Wifi.md": "The guest network password is XK42QZ-harbor.",
                             "Cat.md": "Our cat Miso sleeps all afternoon on the sofa."})
    assert _paths(searcher.search("XK42QZ", 1, "bm25")) == ["Wifi.md"]
    assert _paths(searcher.search("XK42QZ", 1, "hybrid")) == ["Wifi.md"]
    assert _paths(searcher.search("which pet naps on the couch", 1, "dense")) == ["Cat.md"]
    assert _paths(searcher.search("which pet naps on the couch", 1, "hybrid")) == ["Cat.md"]
    assert searcher.search("which pet naps on the couch", 3, "bm25") == []  # no word in common
    bm25 = searcher.search("XK42QZ", 1, "bm25")[0]
    assert bm25.found_by == ["bm25"] and bm25.score > 0


def test_notes_linked_from_the_best_hit_join_the_results(searcher_for):
    searcher = searcher_for({"Trips/Lisbon.md": "Trip to Lisbon in May. Packing list: [[Gear checklist]].",
                             "Gear checklist.md": "Passport, charger, rain jacket, walking shoes.",
                             **GARDEN})
    hybrid = searcher.search("Lisbon trip", 3, "hybrid")
    assert hybrid[0].path == "Trips/Lisbon.md"
    linked = next(r for r in hybrid if r.path == "Gear checklist.md")
    assert "link" in linked.found_by


CARROTS = ("## Soil\n" + "Loamy soil with compost suits most vegetables and keeps moisture well. " * 12 +
           "\n\n## Sowing\n" + "Sow carrots thinly in rows a foot apart in April. " * 12 +
           "\n\n## Harvest\n" + "Pull the carrots when their shoulders are an inch wide. " * 12)


def test_neighbouring_chunks_can_be_added_for_context(searcher_for, write_vault, settings_for, embedder):
    plain = searcher_for({"Garden/Carrots.md": CARROTS}).search("when to sow carrots", 3)
    assert plain[0].heading == "Carrots > Sowing" and "Loamy" not in plain[0].text

    # the same vault and index (write_vault and settings_for share tmp_path), searched with neighbours = 1
    settings = settings_for(write_vault({}), **{"retrieval.neighbours": 1, "retrieval.reranker": "off"})
    searcher = Searcher(settings, embedder)
    result = searcher.search("when to sow carrots", 3)
    searcher.close()
    assert len(result) == 1  # the neighbours are inside the first result, not repeated after it
    assert "Loamy" in result[0].text and "Sow carrots" in result[0].text and "shoulders" in result[0].text


class ReversingReranker:
    """Stands in for a cross-encoder, which cannot be downloaded here: it puts the fused order upside down, so the
    test sees that the reranker's order is the one returned."""

    depth = 3

    def order(self, query: str, texts: list[str]) -> list[int]:
        return list(reversed(range(len(texts))))


def test_a_reranker_reorders_the_top_results(write_vault, settings_for, embedder):
    settings = settings_for(write_vault(GARDEN), **{"retrieval.reranker": "off"})
    sync_vault(settings, embedder=embedder)
    plain = Searcher(settings, embedder)
    reranked = Searcher(settings, embedder, reranker=ReversingReranker())
    before = _paths(plain.search("water", 3, per_note=1))
    after = reranked.search("water", 3, per_note=1)
    plain.close(), reranked.close()
    assert _paths(after) == before[::-1] and all("reranker" in r.found_by for r in after)


SKIPPED_RERANKER = """
import logging, sys
from vaultrag.config.hardware import HardwareProfile
from vaultrag.service.search.reranker import open_reranker
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
print("opened:", open_reranker("auto", "cpu", HardwareProfile(ram_total_gb=16, ram_available_gb=8)))
"""


def test_the_reranker_is_skipped_with_a_reason_when_it_is_not_downloaded(tmp_path):
    """In a fresh process whose Hugging Face cache is an empty folder, whatever this machine has downloaded (the
    hub reads HF_HOME when it is first imported), on a machine that can afford the reranker."""
    env = {key: value for key, value in os.environ.items() if key not in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE")}
    env["HF_HOME"] = str(tmp_path / "empty hf home")
    done = subprocess.run([sys.executable, "-c", SKIPPED_RERANKER], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    model = "cross-encoder/ms-marco-MiniLM-L-6-v2"  # the catalogue's default reranker
    assert f"reranker {model} skipped: it is not downloaded" in done.stdout
    assert f"`vaultrag models pull {model}`" in done.stdout and done.stdout.endswith("opened: None\n")
    assert open_reranker("off", "cpu") is None


def test_a_model_switch_while_searches_run_loses_none(searcher_for, embedder, tmp_path):
    """Searches in four threads while the writer builds a new model's index, switches to it and drops the old one:
    the old index is closed only when no search holds it, a search caught by the drop is answered from the new one."""
    import shutil
    import threading

    searcher = searcher_for(GARDEN)
    settings = searcher._settings
    other_model = shutil.copytree(embedder.files.folder, tmp_path / "my-model")  # same weights, another model id
    changed = settings.model_copy(update={"embedding": settings.embedding.model_copy(update={"model": str(other_model)})})
    switched, errors, tops = threading.Event(), [], []

    def keep_searching():
        after = 0
        while after < 3:  # until a few searches have run on the new index
            after += switched.is_set()
            try:
                tops.append(_paths(searcher.search("how often to water tomatoes", k=1)))
            except Exception as exc:
                errors.append(exc)
                return

    threads = [threading.Thread(target=keep_searching) for _ in range(4)]
    for thread in threads:
        thread.start()
    sync_vault(changed)
    switched.set()
    for thread in threads:
        thread.join()
    assert not errors
    assert tops and all(top == ["Garden/Tomatoes.md"] for top in tops)
    assert searcher._active._holders == {}


def test_an_nfd_named_note_is_found_by_an_nfc_link_and_path_filter(searcher_for):
    """A note saved on macOS has a decomposed name (e + U+0301); links and filters typed elsewhere are composed."""
    import unicodedata

    folder, note = unicodedata.normalize("NFD", "Cafés"), unicodedata.normalize("NFD", "Café Lumière")
    searcher = searcher_for({
        f"{folder}/{note}.md": "---\ntags: [Straße]\n---\nThe espresso machine needs descaling every month.",
        "Plans.md": "Meet Ana at [[Café Lumière]] on Friday to plan the trip.",
        "Other.md": "---\ntags: [axb]\n---\nThe espresso beans come from the market.",
    })
    path = f"{folder}/{note}.md"
    results = searcher.search('path:"Cafés/" how often to descale the espresso machine', k=3)
    assert [r.path for r in results] == [path]
    index_of = searcher._active.hold
    with index_of() as index:
        assert index.manifest.lexical.resolve(["Café Lumière"]) == {"Café Lumière": path}
    assert _paths(searcher.search("tag:STRASSE espresso", k=3)) == [path]  # casefold: ß is ss
    assert searcher.search("tag:a_b espresso", k=3) == []  # `_` is a letter here, not SQL's wildcard
    assert searcher.search("tag:a% espresso", k=3) == []
