"""Canvas boards and Excalidraw drawings parsed into notes, text read by OCR, and the parser child's own limits:
time, memory, and OCR's budgets per page and per file (no embedding model needed)."""

from __future__ import annotations

import json
import threading

import psutil
import pytest

from tests.pdf_files import joined_pdf, make_pdf, memory_bomb_pdf, scanned_pdf
from vaultrag.ingest.canvas import parse_canvas
from vaultrag.ingest.excalidraw import parse_excalidraw
from vaultrag.ingest.isolation import ParseLimits, ParserProcess
from vaultrag.ingest.kinds import kind_of
from vaultrag.ingest.ocr import OcrEngine, ocr_version
from vaultrag.ingest.vault import NoteUnreadable

needs_ocr = pytest.mark.skipif(ocr_version() is None, reason="the OCR extra is not installed (pip install 'vaultrag[ocr]')")


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


def test_a_canvas_edge_label_is_text_between_its_two_ends():
    board = {"nodes": [
        {"id": "room", "type": "group", "x": 0, "y": 0, "width": 1000, "height": 600, "label": "Bathroom"},
        {"id": "a", "type": "text", "x": 20, "y": 20, "width": 200, "height": 80, "text": "Hire a plumber\nby May"},
        {"id": "b", "type": "text", "x": 400, "y": 20, "width": 200, "height": 80, "text": "Tile the walls"},
        {"id": "c", "type": "file", "x": 2000, "y": 0, "width": 200, "height": 80, "file": "Plans/Budget.md"}],
        "edges": [{"id": "e1", "fromNode": "a", "toNode": "b", "label": "must finish before"},
                  {"id": "e2", "fromNode": "c", "toNode": "room", "label": "pays for"},
                  {"id": "e3", "fromNode": "a", "toNode": "c"},  # no label: nothing to say
                  {"id": "e4", "fromNode": "gone", "toNode": "b", "label": "dangling"}, "not an edge"]}
    sections = {s.headings: s.text for s in parse_canvas("Boards/Home.canvas", json.dumps(board)).sections}
    assert sections[("Bathroom",)].endswith("Hire a plumber → must finish before → Tile the walls")
    assert sections[()].endswith("Budget → pays for → Bathroom")  # told where the edge starts, outside the group
    assert "dangling" not in " ".join(sections.values())


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


def _parser_children() -> list[psutil.Process]:
    return [p for p in psutil.Process().children() if "vaultrag.ingest.parse_child" in " ".join(p.cmdline())]


def test_a_pdf_that_swells_past_the_memory_budget_is_stopped_and_the_next_file_gets_a_new_child(tmp_path):
    bomb = memory_bomb_pdf(tmp_path / "bomb.pdf")  # a 20 KB page that PDFium needs over a gigabyte to read
    pdf = make_pdf(tmp_path / "one.pdf", ["A page about tide tables and ferries."])
    parser = ParserProcess(ParseLimits(memory_mb=256))
    with pytest.raises(NoteUnreadable, match=r"needs more than the 256 MB memory budget of the parser; raise "
                                             r"vault.parse_memory_mb to index it \(the parser was stopped\)"):
        parser.read(bomb, "pdf", "bomb.pdf")
    assert _parser_children() == []  # killed, not left swelling
    assert parser.read(pdf, "pdf", "one.pdf")["pages"] == ["A page about tide tables and ferries."]
    assert parser.started == 2
    parser.close()


@needs_ocr
def test_a_page_over_the_ocr_budget_is_skipped_and_the_rest_of_the_pdf_is_read(tmp_path):
    first = make_pdf(tmp_path / "first.pdf", ["The ferry timetable for the spring season."])
    last = make_pdf(tmp_path / "last.pdf", ["Opening hours of the harbour office."])
    scan = scanned_pdf(tmp_path / "scan.pdf", ["A scanned page of the harbour log book"])
    pdf = joined_pdf(tmp_path / "mixed.pdf", [first, scan, last])
    parser = ParserProcess(ParseLimits(ocr=True, ocr_page_timeout_s=0.01))  # less than OCR takes to load
    reading = parser.read(pdf, "pdf", "mixed.pdf")
    assert reading["pages"] == ["The ferry timetable for the spring season.", "",
                                "Opening hours of the harbour office."]
    assert reading["slow"] == [2] and reading["scanned"] == []
    assert parser.started == 2  # the child stuck on page 2 was killed; a new one read page 3
    parser.close()


@needs_ocr
def test_a_file_read_with_ocr_is_stopped_at_its_whole_file_limit(tmp_path):
    scan = scanned_pdf(tmp_path / "scan.pdf", ["Page one of a long scan", "Page two of a long scan"])
    parser = ParserProcess(ParseLimits(ocr=True, ocr_page_timeout_s=600, ocr_file_timeout_s=0.5))
    with pytest.raises(NoteUnreadable, match=r"took longer than the 0.5 s limit for one file read with OCR; raise "
                                             r"vault.ocr_file_timeout_s to index it"):
        parser.read(scan, "pdf", "scan.pdf")
    assert _parser_children() == []
    parser.close()


@needs_ocr
def test_ocr_keeps_the_spaces_between_words_and_reads_lines_top_to_bottom_left_to_right(tmp_path):
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (1000, 200), "white")
    draw, font = ImageDraw.Draw(image), ImageFont.load_default(size=20)  # small text: the reader drops its spaces
    draw.text((600, 42), "delta epsilon", fill="black", font=font)  # drawn first, but right of the next
    draw.text((20, 40), "alpha beta gamma", fill="black", font=font)
    draw.text((20, 120), "zeta eta theta", fill="black", font=font)
    image.save(tmp_path / "words.png")
    lines = OcrEngine()(tmp_path / "words.png").splitlines()
    assert [line.split() for line in lines] == [["alpha", "beta", "gamma", "delta", "epsilon"], ["zeta", "eta", "theta"]]
