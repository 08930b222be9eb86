"""German compounds meet their parts at query time, with the index's own words (FTS5's vocabulary) as the dictionary."""

from __future__ import annotations

import sqlite3

import pytest

from vaultrag.ingest.lexical import LexicalIndex

NOTES = {
    "Brot.md": "Der Roggensauerteig wird einmal pro Woche mit Mehl und Wasser gefüttert und reift über Nacht.",
    "Rad.md": "Den Schlauch herausnehmen, aufpumpen und in einer Wasserschüssel nach kleinen Bläschen suchen.",
    "Fotos.md": "Die Bilder vom Handy kopiere ich jeden Monat auf die externe Festplatte, die zweite liegt im Büro.",
    "Fest.md": "Zum Sommerfest soll jeder etwas mitbringen: einen Salat, Brot oder Getränke für alle Gäste.",
    "Bücher.md": "Die Bücherei hat dienstags bis sieben Uhr geöffnet, ausgeliehene Romane darf man vier Wochen behalten.",
}


@pytest.fixture
def lexical():
    db = sqlite3.connect(":memory:", isolation_level=None)
    index = LexicalIndex(db)
    for path, text in NOTES.items():
        index.put(path, [], [(path, text)])
    yield index
    db.close()


def first(lexical: LexicalIndex, query: str) -> str:
    return lexical.search(query, 5)[0].path


def test_a_word_finds_the_compounds_it_ends_in(lexical):
    assert first(lexical, "Sauerteig füttern") == "Brot.md"
    assert "roggensauerteig" in lexical.vocabulary.extra_terms(["sauerteig"], "de")


def test_a_compound_is_split_into_parts_the_index_holds(lexical):
    assert lexical.vocabulary.extra_terms(["handybild"], "de") == ["handy", "bild"]
    assert first(lexical, "Handybilder sichern") == "Fotos.md"


def test_a_compound_whose_first_part_no_note_has_meets_its_head(lexical):
    assert lexical.vocabulary.extra_terms(["fahrradschlauch"], "de") == ["schlauch"]
    assert first(lexical, "Fahrradschlauch flicken") == "Rad.md"


def test_a_linking_s_is_not_taken_for_part_of_a_word(lexical):
    lexical.put("Zeit.md", [], [("Zeit.md", "Die Arbeit beginnt um acht, das Zimmer im Keller ist kalt und dunkel.")])
    assert lexical.vocabulary.extra_terms(["arbeitszimm"], "de") == ["arbeit", "zimm"]


def test_a_verb_with_a_particle_is_no_compound_and_english_is_left_alone(lexical):
    assert lexical.vocabulary.extra_terms(["bring"], "de") == []  # "mitbringen" is not a kind of "bringen"
    assert lexical.vocabulary.extra_terms(["sauerteig"], "en") == []


def test_words_written_after_a_search_are_in_the_dictionary(lexical):
    assert lexical.vocabulary.extra_terms(["sauerteig"], "de") == ["roggensauerteig"]
    lexical.put("Weizen.md", [], [("Weizen.md", "Der Weizensauerteig braucht mehr Wasser als der aus Roggen.")])
    assert set(lexical.vocabulary.extra_terms(["sauerteig"], "de")) == {"roggensauerteig", "weizensauerteig"}
    lexical.delete("Weizen.md")
    assert lexical.vocabulary.extra_terms(["sauerteig"], "de") == ["roggensauerteig"]


def test_a_search_on_another_connection_finds_compounds_saved_after_it(tmp_path):
    """The daemon's searcher reads the index the writer changes through a connection of its own."""
    writer_db = sqlite3.connect(tmp_path / "index.sqlite", isolation_level=None)
    reader_db = sqlite3.connect(tmp_path / "index.sqlite", isolation_level=None)
    writer, reader = LexicalIndex(writer_db), LexicalIndex(reader_db)
    writer.put("Brot.md", [], [("Brot.md", NOTES["Brot.md"])])
    assert reader.vocabulary.extra_terms(["sauerteig"], "de") == ["roggensauerteig"]
    writer.put("Weizen.md", [], [("Weizen.md", "Der Weizensauerteig braucht mehr Wasser als der aus Roggen.")])
    assert set(reader.vocabulary.extra_terms(["sauerteig"], "de")) == {"roggensauerteig", "weizensauerteig"}
    writer.delete("Brot.md")
    assert reader.vocabulary.extra_terms(["sauerteig"], "de") == ["weizensauerteig"]
    writer_db.close()
    reader_db.close()


def test_an_index_written_before_the_dictionary_table_gets_it_from_its_own_terms(tmp_path):
    db = sqlite3.connect(tmp_path / "index.sqlite", isolation_level=None)
    old = LexicalIndex(db)
    for path, text in NOTES.items():
        old.put(path, [], [(path, text)])
    db.execute("DROP TABLE lexical_terms")  # as an index made by an earlier vaultrag has it
    db.close()
    db = sqlite3.connect(tmp_path / "index.sqlite", isolation_level=None)
    upgraded = LexicalIndex(db)
    assert upgraded.vocabulary.extra_terms(["sauerteig"], "de") == ["roggensauerteig"]
    assert upgraded.vocabulary.extra_terms(["handybild"], "de") == ["handy", "bild"]
    db.close()
