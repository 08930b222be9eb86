"""A sync over the hostile vault (tests/hostile_vault.py): every good note indexed and found, every bad file
reported once with a reason naming its problem, and nothing slow or fatal on the way."""

from __future__ import annotations

import logging
import time

import pytest

from vaultrag.config.settings import load_settings
from vaultrag.ingest import sync
from vaultrag.ingest.index import DataDir
from vaultrag.ingest.pipeline import sync_vault
from tests.hostile_vault import AS_ROOT, make_hostile_vault


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, embedder):
    """(the HostileVault, its settings, the first sync's summary, seconds that sync took), synced once."""
    folder = tmp_path_factory.mktemp("hostile")
    vault = make_hostile_vault(folder / "vault")
    settings = load_settings(overrides={"vault.path": str(vault.root), "data.dir": str(folder / "data")}, environ={})
    embedder.embed(["load the model before the clock starts"])
    started = time.perf_counter()
    summary = sync_vault(settings, embedder=embedder)
    return vault, settings, summary, time.perf_counter() - started


def reasons(summary) -> dict[str, str]:
    return {item["path"]: item["reason"] for item in summary.skipped + summary.failed}


def records(settings) -> dict:
    """The manifest's record of every indexed note, by path."""
    index = DataDir(settings.data_dir).open_active()
    try:
        return index.manifest.files()
    finally:
        index.close()


def missed(settings, embedder, topics: dict[str, str]) -> dict[str, str]:
    """The topics whose note is not among the 5 nearest chunks to the question."""
    index = DataDir(settings.data_dir).open_active()
    try:
        return {path: question for path, question in topics.items() if path not in
                [hit.metadata["path"] for hit in index.store.query(embedder.embed_query([question])[0], 5)]}
    finally:
        index.close()


def test_every_good_note_is_indexed_and_nothing_else(hostile):
    vault, settings, summary, seconds = hostile
    indexed = records(settings)
    assert set(indexed) == vault.indexed
    assert all(record.state == "clean" for record in indexed.values())
    assert summary.complete and summary.files_total == len(vault.indexed)
    assert seconds < 120, f"the hostile vault took {seconds:.1f} s to sync"  # 13 s of CPU time here


def test_every_bad_file_is_reported_with_a_reason_naming_its_problem(hostile):
    vault, _, summary, _ = hostile
    reported = reasons(summary)
    assert set(reported) == set(vault.reported)
    for path, words in vault.reported.items():
        assert all(word in reported[path] for word in words), f"{path}: {reported[path]!r} should say {words}"
    assert {item["path"] for item in summary.skipped} == {"Broken/Photo.md", "Broken/Random bytes.md",
                                                          "Broken/Huge.md"}


def test_warnings_name_the_problem_of_notes_indexed_anyway(hostile):
    vault, settings, _, _ = hostile
    indexed = records(settings)
    for path, words in vault.warnings.items():
        assert any(words in warning for warning in indexed[path].warnings), f"{path}: {indexed[path].warnings}"


def test_each_good_note_is_found_by_its_topic(hostile, embedder):
    vault, settings, _, _ = hostile
    assert not missed(settings, embedder, vault.topics)


def test_a_second_sync_embeds_nothing_and_reports_the_same(hostile, embedder):
    _, settings, first, _ = hostile
    again = sync_vault(settings, embedder=embedder)
    assert (again.indexed, again.embedded) == (0, 0)
    assert reasons(again) == reasons(first)


@pytest.mark.skipif(AS_ROOT, reason="running as root: chmod 000 does not stop root from reading")
def test_a_note_nobody_may_read_is_reported_as_permission_denied(hostile):
    vault, _, summary, _ = hostile
    assert "permission denied" in reasons(summary)[vault.locked_note]


def test_a_note_deleted_between_the_scan_and_the_read_is_dropped_quietly(write_vault, settings_for, embedder,
                                                                         monkeypatch, caplog):
    vault = write_vault({"Kept.md": "The lawn mower blade was sharpened in March.\n",
                         "Doomed.md": "This note is deleted while the sync runs.\n"})
    settings = settings_for(vault)
    sync_vault(settings, embedder=embedder)
    (vault / "Doomed.md").write_text("Edited, so the next sync reads it again.\n")
    scan = sync.scan_vault

    def scan_then_delete(*args, **kwargs):
        found = scan(*args, **kwargs)
        (vault / "Doomed.md").unlink()
        return found

    monkeypatch.setattr(sync, "scan_vault", scan_then_delete)
    with caplog.at_level(logging.WARNING):
        summary = sync_vault(settings, embedder=embedder)
    assert summary.complete and not summary.failed and not summary.skipped
    assert summary.files_total == 1
    assert "Doomed.md: file no longer exists" in caplog.text


@pytest.mark.xfail(strict=False, reason="(not strict: under CPU load the graph sometimes holds) hundreds of identical vectors break Chroma's nearest-neighbour graph; the "
                   "fix belongs in ingest/sync.py and ingest/store.py (one vector per distinct chunk text)")
def test_hundreds_of_identical_empty_notes_do_not_hide_the_others(write_vault, settings_for, embedder):
    topics = {"Bikes.md": "how often should the bicycle chain be oiled",
              "Garden.md": "when to water the tomato plants",
              "Car.md": "when does the car need winter tyres"}
    vault = write_vault({**{f"Day {n}/Untitled.md": "" for n in range(300)},
                         "Bikes.md": "Oil the bike chain every three hundred kilometres.\n",
                         "Garden.md": "Water the tomatoes deeply twice a week in summer.\n",
                         "Car.md": "The car needs new winter tyres in November.\n"})
    settings = settings_for(vault)
    sync_vault(settings, embedder=embedder)
    assert not missed(settings, embedder, topics)
