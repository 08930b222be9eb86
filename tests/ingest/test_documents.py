"""PDFs, Canvas boards, Excalidraw drawings and images through the real sync, the real model and a real ChromaDB:
what a user searches for is found, cited to the page, and a hostile file costs only itself."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.pdf_files import corrupt_pdf, encrypt_pdf, joined_pdf, make_pdf, memory_bomb_pdf, scanned_pdf
from vaultrag.ingest.index import DataDir
from vaultrag.ingest.ocr import ocr_version
from vaultrag.ingest.parse_child import CRASH_HOOK
from vaultrag.ingest.pipeline import sync_vault
from vaultrag.service.search.filters import make_filters
from vaultrag.service.search.searcher import Searcher

PAGE_TWO = "The lighthouse keeper counted forty-two herring boats in the harbour at dawn."
PAGES = ["Chapter one is about planting tomatoes in raised garden beds.", PAGE_TWO,
         "The last page lists the opening hours of the public library."]


@pytest.fixture(scope="session")
def pdfs(tmp_path_factory):
    """Made once: a three-page titled PDF, an encrypted copy, a corrupt file and a PDF of blank (scanned) pages."""
    folder = tmp_path_factory.mktemp("pdfs")
    report = make_pdf(folder / "report.pdf", PAGES, title="Harbour report")
    return {"report": report, "encrypted": encrypt_pdf(report, folder / "locked.pdf"),
            "corrupt": corrupt_pdf(folder / "broken.pdf"), "blank": make_pdf(folder / "scan.pdf", ["", ""]),
            "untitled": make_pdf(folder / "notes.pdf", PAGES)}


def search(settings, embedder, query, k=3, filters=None, mode=None):
    searcher = Searcher(settings, embedder)
    try:
        return searcher.search(query, k, mode=mode, filters=filters)
    finally:
        searcher.close()


def stored(settings) -> list[tuple[str, str, dict]]:
    index = DataDir(settings.data_dir).open_active()
    try:
        got = index.store._collection.get(include=["documents", "metadatas"])
        return list(zip(got["ids"], got["documents"], got["metadatas"]))
    finally:
        index.close()


@pytest.fixture
def vault_with_pdf(write_vault, settings_for, embedder, pdfs):
    vault = write_vault({"Reading.md": "# Reading\nSee ![[report.pdf]] and [[report.pdf#page=2]].\n",
                         "Garden.md": "# Garden\nTomatoes need sun. #garden\n"})
    (vault / "Attachments").mkdir()
    shutil.copy(pdfs["report"], vault / "Attachments/report.pdf")
    settings = settings_for(vault, **{"vault.ocr": False})
    return vault, settings, sync_vault(settings, embedder=embedder)


def test_a_sentence_on_page_two_is_found_and_cited_to_page_two(vault_with_pdf, embedder):
    vault, settings, summary = vault_with_pdf
    assert summary.indexed == 3 and not summary.failed and summary.kinds == {"note": 2, "pdf": 1}
    top = search(settings, embedder, "how many herring boats were in the harbour")[0]
    assert top.path == "Attachments/report.pdf" and top.page == 2
    assert top.title == "Harbour report" and top.heading == "Harbour report > Page 2"
    assert "forty-two herring boats" in top.text and "tomatoes" not in top.text  # a chunk never crosses a page
    assert top.obsidian_url == "obsidian://open?vault=vault&file=Attachments%2Freport.pdf%23page%3D2"
    assert top.linked_from == ["Reading.md"] and top.tags == []
    pages = sorted(meta["page"] for _, _, meta in stored(settings) if meta["path"].endswith(".pdf"))
    assert pages == [1, 2, 3]


def test_type_and_path_filters_narrow_to_the_pdf(vault_with_pdf, embedder):
    vault, settings, _ = vault_with_pdf
    only_pdf = search(settings, embedder, "tomatoes", filters=make_filters(kinds=["pdf"]))
    assert {r.path for r in only_pdf} == {"Attachments/report.pdf"} and only_pdf[0].page == 1
    inline = search(settings, embedder, "type:note tomatoes")
    assert inline and all(r.path.endswith(".md") for r in inline)
    assert {r.path for r in search(settings, embedder, "path:Attachments/ library hours")} == {"Attachments/report.pdf"}


def test_an_unchanged_or_touched_pdf_starts_no_parser(vault_with_pdf, embedder, monkeypatch):
    vault, settings, _ = vault_with_pdf
    monkeypatch.setenv(CRASH_HOOK, "report")  # a parser child asked to read report.pdf would crash
    (vault / "Attachments/report.pdf").touch()
    again = sync_vault(settings, embedder=embedder)
    assert again.unchanged == 3 and not again.failed and again.indexed == 0


def test_a_moved_and_renamed_pdf_is_not_embedded_again(vault_with_pdf, embedder):
    vault, settings, _ = vault_with_pdf
    (vault / "Papers").mkdir()
    (vault / "Attachments/report.pdf").rename(vault / "Papers/harbour-2024.pdf")
    before = embedder.texts_embedded
    summary = sync_vault(settings, embedder=embedder)
    assert (summary.renamed, summary.deleted, summary.indexed) == (1, 0, 0)
    assert embedder.texts_embedded == before  # same text, same title (from the PDF's metadata): no vector redone
    top = search(settings, embedder, "herring boats in the harbour")[0]
    assert top.path == "Papers/harbour-2024.pdf" and top.page == 2
    assert {meta["path"] for _, _, meta in stored(settings)} == {"Reading.md", "Garden.md", "Papers/harbour-2024.pdf"}


def test_a_pdf_titled_by_its_file_name_keeps_its_vectors_when_renamed_and_shows_the_new_name(
        write_vault, settings_for, embedder, pdfs):
    vault = write_vault({"Garden.md": "# Garden\nTomatoes need sun.\n"})
    shutil.copy(pdfs["untitled"], vault / "harbour-notes.pdf")  # no metadata title: the file name is its title
    settings = settings_for(vault, **{"vault.ocr": False})
    sync_vault(settings, embedder=embedder)
    (vault / "Archive").mkdir()
    (vault / "harbour-notes.pdf").rename(vault / "Archive/fishing-log.pdf")
    before = embedder.texts_embedded
    summary = sync_vault(settings, embedder=embedder)
    assert (summary.renamed, summary.deleted, summary.indexed) == (1, 0, 0)
    assert embedder.texts_embedded == before  # the name is not in the embedded text: no vector redone
    top = search(settings, embedder, "how many herring boats were in the harbour")[0]
    assert (top.path, top.title, top.heading, top.page) == ("Archive/fishing-log.pdf", "fishing-log.pdf",
                                                            "fishing-log.pdf > Page 2", 2)
    assert top.text.startswith("The lighthouse keeper counted")  # no breadcrumb line left in the text shown
    named = search(settings, embedder, "fishing-log", mode="bm25")  # words find the name
    assert named and named[0].path == "Archive/fishing-log.pdf"


def test_a_deleted_pdf_leaves_nothing(vault_with_pdf, embedder):
    vault, settings, _ = vault_with_pdf
    (vault / "Attachments/report.pdf").unlink()
    summary = sync_vault(settings, embedder=embedder)
    assert summary.deleted == 1 and summary.kinds == {"note": 2}
    assert all(not meta["path"].endswith(".pdf") for _, _, meta in stored(settings))
    assert search(settings, embedder, "type:pdf herring boats") == []


def test_hostile_pdfs_are_failed_with_reasons_and_the_rest_is_indexed(write_vault, settings_for, embedder, pdfs,
                                                                      monkeypatch):
    vault = write_vault({"Note.md": "A note about the harbour.\n"})
    for name in ("report", "encrypted", "corrupt", "blank"):
        shutil.copy(pdfs[name], vault / pdfs[name].name)
    shutil.copy(pdfs["report"], vault / "crashes.pdf")
    monkeypatch.setenv(CRASH_HOOK, "crashes")  # the child kills itself with SIGSEGV on this one, as PDFium might
    summary = sync_vault(settings_for(vault, **{"vault.ocr": False}), embedder=embedder)
    reasons = {f["path"]: f["reason"] for f in summary.failed}
    assert set(reasons) == {"locked.pdf", "broken.pdf", "scan.pdf", "crashes.pdf"}
    assert reasons["locked.pdf"].startswith("encrypted PDF")
    assert reasons["broken.pdf"].startswith("not a valid PDF")
    assert reasons["scan.pdf"] == "scanned PDF, no text layer: install vaultrag[ocr] to read it"
    assert "crashed" in reasons["crashes.pdf"] and "SIGSEGV" in reasons["crashes.pdf"]
    assert summary.kinds == {"note": 1, "pdf": 1}  # report.pdf, read by a new child after the crash


def test_a_pdf_over_the_memory_budget_is_failed_and_the_sync_goes_on(write_vault, settings_for, embedder, pdfs):
    vault = write_vault({"Note.md": "A note about the harbour.\n"})
    memory_bomb_pdf(vault / "bomb.pdf")  # 20 KB, over a gigabyte to read
    shutil.copy(pdfs["report"], vault / "report.pdf")  # read after the bomb, by a new child
    summary = sync_vault(settings_for(vault, **{"vault.ocr": False, "vault.parse_memory_mb": 256}), embedder=embedder)
    assert summary.failed == [{"path": "bomb.pdf", "reason": "needs more than the 256 MB memory budget of the parser; "
                                                             "raise vault.parse_memory_mb to index it (the parser was "
                                                             "stopped)"}]
    assert summary.kinds == {"note": 1, "pdf": 1}


@pytest.mark.skipif(ocr_version() is None, reason="the OCR extra is not installed (pip install 'vaultrag[ocr]')")
def test_a_scanned_page_over_the_ocr_budget_is_skipped_and_the_rest_of_the_pdf_is_found(
        write_vault, settings_for, embedder, tmp_path):
    vault = write_vault({"Note.md": "A note.\n"})
    parts = [make_pdf(tmp_path / "first.pdf", [PAGES[0]]), scanned_pdf(tmp_path / "scan.pdf", ["The harbour log"]),
             make_pdf(tmp_path / "last.pdf", [PAGES[2]])]
    joined_pdf(vault / "mixed.pdf", parts)
    settings = settings_for(vault, **{"vault.ocr_page_timeout_s": 0.01})  # less than OCR takes to load
    summary = sync_vault(settings, embedder=embedder)
    assert not summary.failed and summary.kinds == {"note": 1, "pdf": 1}
    top = search(settings, embedder, "opening hours of the public library")[0]
    assert (top.path, top.page) == ("mixed.pdf", 3)
    index = DataDir(settings.data_dir).open_active()
    try:
        assert index.manifest.record("mixed.pdf").warnings == [
            "1 of 3 pages skipped: OCR took longer than vault.ocr_page_timeout_s on page 2; raise it to read them "
            "(the PDF is read again when it changes)"]
    finally:
        index.close()


def test_a_pdf_over_the_page_limit_is_skipped_and_says_which_setting(write_vault, settings_for, embedder, pdfs):
    vault = write_vault({"Note.md": "A note.\n"})
    shutil.copy(pdfs["report"], vault / "report.pdf")
    summary = sync_vault(settings_for(vault, **{"vault.max_pdf_pages": 2}), embedder=embedder)
    assert summary.skipped == [{"path": "report.pdf", "reason": "larger than the 2-page limit (3 pages); raise "
                                                                "vault.max_pdf_pages to index it"}]


BOARD = {"nodes": [
    {"id": "g", "type": "group", "x": 0, "y": 0, "width": 1000, "height": 600, "label": "Kitchen renovation"},
    {"id": "t", "type": "text", "x": 20, "y": 20, "width": 300, "height": 100,
     "text": "Replace the leaking faucet under the sink before the tiler comes. #home"},
    {"id": "f", "type": "file", "x": 400, "y": 20, "width": 300, "height": 100, "file": "Garden.md"},
    {"id": "u", "type": "text", "x": 2000, "y": 0, "width": 300, "height": 100, "text": "Solar panels on the roof?"},
    {"id": "v", "type": "text", "x": 2000, "y": 300, "width": 300, "height": 100, "text": "Roof survey"}],
    "edges": [{"id": "e", "fromNode": "v", "toNode": "u", "label": "decides whether we can install"}]}

DRAWING = """---
excalidraw-plugin: parsed
tags: [excalidraw]
---
==⚠  Switch to EXCALIDRAW VIEW in the MORE OPTIONS menu of this document. ⚠==

# Excalidraw Data

## Text Elements
Network switch in the attic ^a1b2c3

Fibre modem by the front door ^d4e5f6

%%
## Drawing
```compressed-json
N4KAkARALgngDg2sQBcSA0AQQYQLqQAcEAQ4GBgqZ3ASJ0w3BigD
```
%%
"""


def test_canvas_cards_and_excalidraw_words_are_searchable_and_cite_their_file(write_vault, settings_for, embedder):
    vault = write_vault({"Board.canvas": json.dumps(BOARD), "Sketch.excalidraw.md": DRAWING,
                         "Garden.md": "# Garden\nTomatoes need sun.\n"})
    settings = settings_for(vault)
    summary = sync_vault(settings, embedder=embedder)
    assert summary.kinds == {"canvas": 1, "excalidraw": 1, "note": 1} and not summary.failed
    card = search(settings, embedder, "fix the dripping kitchen tap")[0]
    assert card.path == "Board.canvas" and "Kitchen renovation" in card.text and "leaking faucet" in card.text
    assert card.obsidian_url == "obsidian://open?vault=vault&file=Board.canvas" and card.tags == ["home"]
    index = DataDir(settings.data_dir).open_active()
    try:
        assert "Garden" in index.manifest.record("Board.canvas").links  # the file card is a link
    finally:
        index.close()
    edge = search(settings, embedder, "what decides whether we can install solar panels")[0]
    assert edge.path == "Board.canvas" and "Roof survey → decides whether we can install → Solar panels" in edge.text
    drawing = search(settings, embedder, "where is the network switch")[0]
    assert drawing.path == "Sketch.excalidraw.md" and drawing.title == "Sketch"
    assert "Network switch in the attic" in drawing.text and "^a1b2c3" not in drawing.text
    texts = " ".join(text for _, text, _ in stored(settings))
    assert "N4KAkARALgngDg2s" not in texts and "EXCALIDRAW VIEW" not in texts  # the drawing data is never embedded


def test_text_in_an_image_is_found_with_the_ocr_extra(write_vault, settings_for, embedder):
    if ocr_version() is None:
        pytest.skip("the OCR extra is not installed (pip install 'vaultrag[ocr]')")
    from PIL import Image, ImageDraw, ImageFont

    vault = write_vault({"Note.md": "A note about gardening.\n"})
    image = Image.new("RGB", (1000, 160), "white")
    font = ImageFont.load_default(size=44)
    ImageDraw.Draw(image).text((20, 50), "Quarterly invoice from the plumber", fill="black", font=font)
    image.save(vault / "invoice.png")
    settings = settings_for(vault)
    summary = sync_vault(settings, embedder=embedder)
    assert summary.kinds == {"note": 1, "image": 1} and not summary.failed
    top = search(settings, embedder, "plumber invoice")[0]
    assert top.path == "invoice.png" and "plumber" in top.text.lower()
