"""Canvas boards and Excalidraw drawings parsed into notes, and the parser child's own limits (no model needed)."""

from __future__ import annotations

import json
import threading

import pytest

from tests.pdf_files import make_pdf
from vaultrag.ingest.canvas import parse_canvas
from vaultrag.ingest.excalidraw import parse_excalidraw
from vaultrag.ingest.isolation import ParseLimits, ParserProcess
from vaultrag.ingest.kinds import kind_of
from vaultrag.ingest.vault import NoteUnreadable


def test_kinds_are_told_by_name():
    assert [kind_of(p) for p in ("a.md", "b.Excalidraw.md", "c.canvas", "d.PDF", "e.webp", "f.txt")] == [
        "note", "excalidraw", "canvas", "pdf", "image", "note"]


def test_canvas_groups_nest_as_headings_and_file_cards_are_links():
    board = {"nodes": [
        {"id": "outer", "type": "group", "x": 0, "y": 0, "width": 1000, "height": 1000, "label": "House"},
        {"id": "inner", "type": "group", "x": 50, "y": 400, "width": 400, "height": 400, "label": "Kitchen"},
        {"id": "a", "type": "text", "x": 60, "y": 450, "width": 100, "height": 50, "text": "New tiles [[Tiler]]"},
        {"id": "b", "type": "text", "x": 60, "y": 50, "width": 100, "height": 50, "text": "Roof needs repair #todo"},
        {"id": "c", "type": "file", "x": 600, "y": 50, "width": 100, "height": 50, "file": "Plans/Budget.md"},
        {"id": "d", "type": "link", "x": 2000, "y": 0, "width": 100, "height": 50, "url": "https://example.org/x"},
        {"id": "broken", "type": "text", "text": "no position"}], "edges": []}
    note = parse_canvas("Boards/Home.canvas", json.dumps(board))
    assert note.title == "Home" and note.tags == ("todo",)
    assert {link.target for link in note.links} == {"Tiler", "Plans/Budget"}
    sections = {s.headings: s.text for s in note.sections}
    assert "example.org" in sections[()]  # outside every group
    assert "Roof needs repair" in sections[("House",)] and "Budget" in sections[("House",)]
    assert sections[("House", "Kitchen")] == "New tiles Tiler"
    assert "no position" not in " ".join(sections.values())


@pytest.mark.parametrize("text, why", [("{not json", "JSON error at line 1"), ('{"edges": []}', 'no list of "nodes"')])
def test_a_broken_canvas_is_unreadable_with_a_reason(text, why):
    with pytest.raises(NoteUnreadable, match=why):
        parse_canvas("Board.canvas", text)


def test_excalidraw_keeps_the_words_and_drops_the_drawing():
    text = ("---\nexcalidraw-plugin: parsed\n---\nMy own note above the drawing.\n\n# Excalidraw Data\n"
            "## Text Elements\nAttic switch ^x1\n\n## Embedded Files\nabc: [[photo.png]]\n\n## Drawing\n"
            "```json\n{\"type\": \"excalidraw\", \"elements\": [{\"text\": \"SECRETJSON\"}]}\n```\n")
    note = parse_excalidraw("Art/Net.excalidraw.md", text)
    body = " ".join(s.text for s in note.sections)
    assert note.title == "Net" and "Attic switch" in body and "My own note above" in body
    assert "SECRETJSON" not in body and "photo" not in body
    assert [link.target for link in note.links] == ["photo.png"]
    assert all("Text Elements" not in s.headings for s in note.sections)


def test_the_parser_child_is_killed_past_its_time_budget_and_the_next_file_gets_a_new_one(tmp_path):
    pdf = make_pdf(tmp_path / "one.pdf", ["A page about tide tables and ferries."])
    slow = ParserProcess(ParseLimits(timeout_s=0.001))  # less than a child takes to start
    with pytest.raises(NoteUnreadable, match=r"took longer than the 0.001 s limit to read; raise vault.parse_timeout_s"):
        slow.read(pdf, "pdf", "one.pdf")
    slow.limits = ParseLimits()
    assert slow.read(pdf, "pdf", "one.pdf")["pages"] == ["A page about tide tables and ferries."]
    assert slow.started == 2
    slow.close()


def test_a_stop_request_ends_a_read_in_progress_at_once(tmp_path):
    pdf = make_pdf(tmp_path / "one.pdf", ["A page about tide tables and ferries."])
    parser = ParserProcess(ParseLimits())
    parser.stop = threading.Event()
    parser.stop.set()  # a shutdown asked for while the file is read
    with pytest.raises(InterruptedError):
        parser.read(pdf, "pdf", "one.pdf")
    parser.stop = None
    assert parser.read(pdf, "pdf", "one.pdf")["pages"] == ["A page about tide tables and ferries."]
    parser.close()
