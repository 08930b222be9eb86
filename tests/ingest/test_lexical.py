"""The BM25 index follows the vault through the same sync as the vectors: edits, renames and deletes change it."""

from __future__ import annotations

from vaultrag.ingest.index import DataDir
from vaultrag.ingest.pipeline import sync_vault


def _lexical(settings):
    index = DataDir(settings.data_dir).open_active()
    return index, index.manifest.lexical


def _paths(settings, query: str) -> list[str]:
    index, lexical = _lexical(settings)
    try:
        return [hit.path for hit in lexical.search(query, 10)]
    finally:
        index.close()


def test_edit_rename_and_delete_change_bm25_results(write_vault, settings_for, embedder):
    vault = write_vault({"Garden.md": "Sow the zucchini seeds in May.", "Car.md": "The car needs new winter tyres."})
    settings = settings_for(vault)
    sync_vault(settings, embedder=embedder)
    assert _paths(settings, "zucchini") == ["Garden.md"]

    (vault / "Garden.md").write_text("Sow the pumpkin seeds in May.", encoding="utf-8")
    sync_vault(settings, embedder=embedder)
    assert _paths(settings, "zucchini") == [] and _paths(settings, "pumpkins") == ["Garden.md"]

    (vault / "Garden.md").rename(vault / "Allotment.md")
    sync_vault(settings, embedder=embedder)
    assert _paths(settings, "pumpkin") == ["Allotment.md"]

    (vault / "Allotment.md").unlink()
    sync_vault(settings, embedder=embedder)
    assert _paths(settings, "pumpkin") == []
    assert _paths(settings, "tyres") == ["Car.md"]


def test_an_existing_index_gains_the_lexical_index_without_embedding_again(write_vault, settings_for, embedder):
    vault = write_vault({"Garden.md": "Sow the zucchini seeds in May."})
    settings = settings_for(vault)
    sync_vault(settings, embedder=embedder)
    index, lexical = _lexical(settings)
    with index.manifest.transaction():
        lexical.delete("Garden.md")  # as an index built before the lexical index existed
        index.manifest.set_meta("chunking", "an older version")
    index.close()
    summary = sync_vault(settings, embedder=embedder)
    assert summary.embedded == 0
    assert _paths(settings, "zucchini") == ["Garden.md"]


def test_titles_and_aliases_name_notes_and_resolve_links(write_vault, settings_for, embedder):
    vault = write_vault({
        "People/Ada Lovelace.md": "---\naliases: [Countess of Lovelace]\n---\nWrote the first program.",
        "Projects/Analytical Engine.md": "Babbage's machine. See [[Countess of Lovelace]].",
    })
    settings = settings_for(vault)
    sync_vault(settings, embedder=embedder)
    index, lexical = _lexical(settings)
    try:
        assert lexical.notes_named_in("what did ada lovelace write?") == ["People/Ada Lovelace.md"]
        assert lexical.notes_named_in("who was the Countess of Lovelace") == ["People/Ada Lovelace.md"]
        assert lexical.notes_named_in("tyres for the car") == []
        assert lexical.resolve(["Countess of Lovelace", "ada lovelace", "Projects/Analytical Engine", "Nowhere"]) == {
            "Countess of Lovelace": "People/Ada Lovelace.md", "ada lovelace": "People/Ada Lovelace.md",
            "Projects/Analytical Engine": "Projects/Analytical Engine.md"}
    finally:
        index.close()


def test_notes_without_spaces_between_words_are_found_by_a_word_inside_them(write_vault, settings_for, embedder):
    vault = write_vault({"旅行.md": "我明天去东京都看樱花。", "ไทย.md": "วันนี้อากาศดีมากไปเที่ยวทะเล",
                         "Car.md": "The car needs new winter tyres."})
    settings = settings_for(vault)
    sync_vault(settings, embedder=embedder)
    assert _paths(settings, "樱花") == ["旅行.md"]
    assert _paths(settings, "ทะเล") == ["ไทย.md"]  # "the sea"


GERMAN_AND_ENGLISH = {
    "Fahrrad.md": "Den Schlauch aus dem Mantel nehmen, aufpumpen und in einer Wasserschüssel nach Bläschen suchen.",
    "Router.md": "Das Passwort für das drahtlose Netz steht auf dem Aufkleber an der Unterseite des Geräts.",
    "Garden.md": "Sow the zucchini seeds in May and water them twice a week.",
}


def test_a_german_question_meets_german_word_forms_in_a_mixed_vault(write_vault, settings_for, embedder):
    settings = settings_for(write_vault(GERMAN_AND_ENGLISH))
    sync_vault(settings, embedder=embedder)
    assert _paths(settings, "Wo stehen die Passwörter?") == ["Router.md"]  # Passwort, Passwörter: one German stem
    assert _paths(settings, "Bläschen im Schlauch") == ["Fahrrad.md"]
    assert _paths(settings, "watering zucchinis") == ["Garden.md"]
    index, lexical = _lexical(settings)
    try:
        assert lexical.languages() == {"de": 2, "en": 1}
        assert lexical.query_languages("Wo stehen die Passwörter?")[0] == "de"
        assert lexical.query_languages("when do I sow the seeds?")[0] == "en"
    finally:
        index.close()


def test_an_index_of_the_previous_terms_is_read_again_in_its_languages_without_embedding(write_vault, settings_for,
                                                                                         embedder):
    settings = settings_for(write_vault(GERMAN_AND_ENGLISH))
    sync_vault(settings, embedder=embedder)
    index, lexical = _lexical(settings)
    db = index.manifest._db  # made as version 1 left it: English terms, no languages recorded
    with index.manifest.transaction():
        db.execute("UPDATE lexical SET body = 'passwort'")
        db.execute("ALTER TABLE lexical_chunks DROP COLUMN language")
        db.execute("DELETE FROM lexical_languages")
        index.manifest.set_meta("chunking", index.manifest.get_meta("chunking").replace("lexical2", "lexical1"))
    index.close()
    summary = sync_vault(settings, embedder=embedder)
    assert summary.embedded == 0
    assert _paths(settings, "Wo stehen die Passwörter?") == ["Router.md"]
    index, lexical = _lexical(settings)
    try:
        assert lexical.languages() == {"de": 2, "en": 1}
    finally:
        index.close()


def test_deleting_notes_takes_their_language_out_of_the_counts(write_vault, settings_for, embedder):
    vault = write_vault(GERMAN_AND_ENGLISH)
    settings = settings_for(vault)
    sync_vault(settings, embedder=embedder)
    (vault / "Fahrrad.md").unlink()
    (vault / "Router.md").unlink()
    sync_vault(settings, embedder=embedder)
    index, lexical = _lexical(settings)
    try:
        assert lexical.languages() == {"en": 1}
    finally:
        index.close()
