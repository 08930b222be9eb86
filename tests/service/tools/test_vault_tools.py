"""The tools other agents call, over a real index (ChromaDB, MiniLM, the manifest): reading with headings and a size
cap (PDFs page by page, boards and drawings as their text), related notes on a vault where the answer is known, tags,
recent notes, writes confined to one folder."""

from __future__ import annotations

import json
import os
import time

import pytest

from tests.pdf_files import make_pdf
from vaultrag.ingest.pipeline import sync_vault
from vaultrag.service.search.searcher import Searcher
from vaultrag.service.tools.errors import (BadToolInput, NoteExists, NoteNotFound, UnknownTool, WriteRefused,
                                           WritesDisabled)
from vaultrag.service.tools.vault_tools import VaultTools

VAULT = {
    "Baking/Sourdough.md": "---\ntags: [baking, bread]\nhydration: 75\n---\n# Sourdough\nFeed the starter with flour "
                           "and water, let the dough rise overnight, bake the loaf in a hot Dutch oven.\n\n"
                           "## Shaping\nFold the dough, shape a tight boule, proof it in a floured basket.\n\n"
                           "### Scoring\nScore the loaf with a razor before baking.\n\n## Storage\nKeep bread in linen.\n",
    "Baking/Rye bread.md": "---\ntags: [baking]\n---\nRye bread: a dense loaf with a sour rye starter, baked long "
                           "in a hot oven; the dough is sticky and rises slowly.\n",
    "Baking/Focaccia.md": "Focaccia dough rises twice; bake the flat bread with olive oil and salt in a hot oven.\n",
    "Tech/Kubernetes.md": "---\ntags: [work/infra]\n---\nKubernetes pods are scheduled on nodes; a deployment keeps "
                          "replicas running and a service load-balances traffic between pods.\n",
    "Tech/Postgres.md": "Postgres vacuum reclaims dead tuples; tune autovacuum for write-heavy tables.\n",
    "Journal/Market day.md": "Bought flour at the market. See [[Kubernetes]] for the cluster I fixed after.\n",
    "Inbox/Ideas.md": "First idea\n",
}


@pytest.fixture
def tools_for(write_vault, settings_for, embedder):
    """tools_for(**settings) -> VaultTools over the indexed VAULT; writes re-index before they return."""
    made = []

    def make(**overrides) -> VaultTools:
        vault = write_vault(VAULT)
        os.utime(vault / "Tech/Postgres.md", (time.time() - 86400,) * 2)
        settings = settings_for(vault, **{"retrieval.reranker": "off", **overrides})
        sync_vault(settings, embedder=embedder)
        searcher = Searcher(settings, embedder)
        made.append(searcher)

        def reindex(path: str) -> bool:
            sync_vault(settings, embedder=embedder)
            return True
        return VaultTools(settings, searcher, reindex)

    yield make
    for searcher in made:
        searcher.close()


def test_search_notes_returns_passages_with_links_and_filters(tools_for):
    tools = tools_for()
    results = tools.call("search_notes", {"query": "how do I schedule pods", "k": 3})["results"]
    assert results[0]["path"] == "Tech/Kubernetes.md"
    assert results[0]["obsidian_url"].startswith("obsidian://open?vault=vault&file=Tech%2FKubernetes")
    assert set(results[0]) == {"path", "title", "heading", "text", "score", "obsidian_url", "tags"}
    baking = tools.call("search_notes", {"query": "oven", "k": 10, "tags": ["baking"]})["results"]
    assert {r["path"] for r in baking} == {"Baking/Sourdough.md", "Baking/Rye bread.md"}
    with pytest.raises(BadToolInput, match="k"):
        tools.call("search_notes", {"query": "x", "k": 0})


def test_read_note_gives_properties_markdown_and_one_section(tools_for):
    tools = tools_for()
    note = tools.call("read_note", {"path": "Baking/Sourdough.md"})
    assert note["properties"] == {"tags": ["baking", "bread"], "hydration": 75}
    assert note["text"].startswith("# Sourdough\nFeed the starter") and "## Storage" in note["text"]
    assert note["truncated"] is False
    assert note["headings"] == ["Sourdough", "Sourdough > Shaping", "Sourdough > Shaping > Scoring",
                                "Sourdough > Storage"]
    shaping = tools.call("read_note", {"path": "Baking/Sourdough.md", "heading": "shaping"})
    assert shaping["heading"] == "Sourdough > Shaping"
    assert shaping["text"] == ("## Shaping\nFold the dough, shape a tight boule, proof it in a floured basket.\n\n"
                               "### Scoring\nScore the loaf with a razor before baking.")
    # the breadcrumb a search result shows, title first, finds the same section
    assert tools.call("read_note", {"path": "Baking/Sourdough.md", "heading": "Sourdough > Shaping > Scoring"}
                      )["text"] == "### Scoring\nScore the loaf with a razor before baking."
    with pytest.raises(NoteNotFound, match="no heading 'Baking times'"):
        tools.call("read_note", {"path": "Baking/Sourdough.md", "heading": "Baking times"})


def test_read_note_is_capped_with_a_marker(write_vault, settings_for, embedder):
    long_text = "".join(f"Line {n} of a very long meeting transcript about the budget.\n" for n in range(1000))
    vault = write_vault({"Long.md": long_text})
    settings = settings_for(vault, **{"mcp.max_note_chars": 5000})
    sync_vault(settings, embedder=embedder)
    searcher = Searcher(settings, embedder)
    try:
        note = VaultTools(settings, searcher).call("read_note", {"path": "Long.md"})
    finally:
        searcher.close()
    assert note["truncated"] is True and note["chars"] == len(long_text.strip("\n"))
    body, marker = note["text"].rsplit("\n\n", 1)
    assert len(body) <= 5000 and body.endswith("budget.") and long_text.startswith(body)
    assert marker.startswith("[truncated: ") and "heading" in marker


TIDES = ["Tide tables for the spring: high water at noon.",
         "The ferry to the island leaves at seven fifteen every morning from pier four.",
         "Opening hours of the harbour office, Monday to Friday."]
BOARD = {"nodes": [
    {"id": "g", "type": "group", "x": 0, "y": 0, "width": 1000, "height": 600, "label": "Kitchen"},
    {"id": "t", "type": "text", "x": 20, "y": 20, "width": 300, "height": 100, "text": "Replace the leaking faucet."},
    {"id": "f", "type": "file", "x": 400, "y": 20, "width": 300, "height": 100, "file": "Plans/Budget.md"}],
    "edges": []}
DRAWING = ("---\nexcalidraw-plugin: parsed\ntags: [network]\n---\n==⚠  Switch to EXCALIDRAW VIEW ⚠==\n\n"
           "# Excalidraw Data\n\n## Text Elements\nNetwork switch in the attic ^a1b2c3\n\n%%\n## Drawing\n"
           "```compressed-json\nN4KAkARALgngDg2sQBcSA0AQQYQLqQAcEAQ4GBgqZ3ASJ0w3BigD\n```\n%%\n")


def test_read_note_gives_a_pdf_page_by_page_and_a_board_or_drawing_as_its_text(write_vault, settings_for, embedder):
    vault = write_vault({"Board.canvas": json.dumps(BOARD), "Sketch.excalidraw.md": DRAWING})
    make_pdf(vault / "Docs/tides.pdf", TIDES)
    make_pdf(vault / "Docs/minutes.pdf", [" ".join(f"Item {n}: the budget for the harbour wall was discussed."
                                                   for n in range(40))])
    settings = settings_for(vault, **{"vault.ocr": False, "retrieval.reranker": "off"})
    sync_vault(settings, embedder=embedder)
    searcher = Searcher(settings, embedder)
    try:
        tools = VaultTools(settings, searcher)
        pdf = tools.call("read_note", {"path": "Docs/tides.pdf"})
        assert pdf["text"] == "\n\n".join(f"--- Page {n} ---\n{text}" for n, text in enumerate(TIDES, start=1))
        assert pdf["headings"] == ["Page 1", "Page 2", "Page 3"] and pdf["title"] == "tides.pdf"
        assert pdf["truncated"] is False and pdf["obsidian_url"].endswith("file=Docs%2Ftides.pdf")
        # one page, named as a search result's breadcrumb names it; its link opens that page
        page = tools.call("read_note", {"path": "Docs/tides.pdf", "heading": "tides.pdf > Page 2"})
        assert (page["heading"], page["text"]) == ("Page 2", f"--- Page 2 ---\n{TIDES[1]}")
        assert page["obsidian_url"].endswith("file=Docs%2Ftides.pdf%23page%3D2")
        with pytest.raises(NoteNotFound, match="no heading 'Page 9'"):
            tools.call("read_note", {"path": "Docs/tides.pdf", "heading": "Page 9"})
        capped = VaultTools(settings_for(vault, **{"mcp.max_note_chars": 1000}), searcher).call(
            "read_note", {"path": "Docs/minutes.pdf"})
        body, marker = capped["text"].rsplit("\n\n", 1)
        assert capped["truncated"] is True and capped["chars"] > 2000 and len(body) <= 1000
        assert body.startswith("--- Page 1 ---\nItem 0: the budget") and marker.startswith("[truncated: ")

        board = tools.call("read_note", {"path": "Board.canvas"})
        assert board["text"] == "# Kitchen\nReplace the leaking faucet.\n\nPlans/Budget"  # a file card: the file it shows
        assert board["headings"] == ["Kitchen"] and '"nodes"' not in board["text"]
        drawing = tools.call("read_note", {"path": "Sketch.excalidraw.md"})
        assert drawing["text"] == "Network switch in the attic" and drawing["properties"] == {
            "excalidraw-plugin": "parsed", "tags": ["network"]}
    finally:
        searcher.close()


def test_only_indexed_notes_can_be_read(tools_for):
    tools = tools_for()
    vault = tools.vault
    (vault / "secret.txt").write_text("not a note")
    (vault / ".obsidian").mkdir()
    (vault / ".obsidian/workspace.md").write_text("not indexed")
    for path in ("secret.txt", ".obsidian/workspace.md", "../outside.md", "/etc/passwd", "Missing.md"):
        with pytest.raises(NoteNotFound, match="in the index"):
            tools.call("read_note", {"path": path})


def test_related_notes_ranks_like_notes_and_links(tools_for):
    tools = tools_for()
    related = tools.call("related_notes", {"path": "Baking/Sourdough.md", "k": 3})["related"]
    assert {r["path"] for r in related[:2]} == {"Baking/Rye bread.md", "Baking/Focaccia.md"}
    assert all(r["path"] != "Baking/Sourdough.md" for r in related)
    # the market note is about flour, and it links to Kubernetes: that link puts Kubernetes first among tech notes
    kube = tools.call("related_notes", {"path": "Tech/Kubernetes.md", "k": 6})["related"]
    by_path = {r["path"]: r for r in kube}
    assert by_path["Journal/Market day.md"]["links"] == ["linked from"]
    market = tools.call("related_notes", {"path": "Journal/Market day.md", "k": 6})["related"]
    assert next(r for r in market if r["path"] == "Tech/Kubernetes.md")["links"] == ["links to"]
    assert [r["path"] for r in market].index("Tech/Kubernetes.md") < [r["path"] for r in market].index("Tech/Postgres.md")


def test_list_tags_and_recent_notes(tools_for):
    tools = tools_for()
    tags = tools.call("list_tags", {})["tags"]
    assert tags[0] == {"tag": "baking", "notes": 2}
    assert {"tag": "work/infra", "notes": 1} in tags
    recent = [n["path"] for n in tools.call("recent_notes", {"n": 100})["notes"]]
    assert len(recent) == len(VAULT) and recent[-1] == "Tech/Postgres.md"  # modified a day ago
    assert [n["path"] for n in tools.call("recent_notes", {"n": 5, "path_prefix": "tech/"})["notes"]] == [
        "Tech/Kubernetes.md", "Tech/Postgres.md"]


def test_writes_are_off_by_default(tools_for):
    tools = tools_for()
    assert "create_note" not in tools.specs and "append_to_note" not in tools.specs
    for name in ("create_note", "append_to_note"):
        with pytest.raises(WritesDisabled, match="mcp.allow_writes = true"):
            tools.call(name, {"path": "Inbox/New.md", "text": "hi"})
    with pytest.raises(UnknownTool, match="no tool 'delete_note'"):
        tools.call("delete_note", {"path": "Inbox/Ideas.md"})
    assert not (tools.vault / "Inbox/New.md").exists()


def test_writes_stay_inside_the_folder_and_never_overwrite(tools_for):
    tools = tools_for(**{"mcp.allow_writes": True, "mcp.write_folder": "Inbox"})
    vault = tools.vault
    (vault / "Inbox/escape").symlink_to(vault / "Tech")
    before = {p: p.read_bytes() for p in vault.rglob("*.md")}
    for path in ("Tech/Kubernetes.md", "../outside.md", "Inbox/../Tech/Evil.md", "/etc/x.md", "Inbox/.hidden/x.md",
                 "Inbox\\..\\x.md", "Inbox/escape/Evil.md", "Inboxer/x.md", "Inbox/"):
        with pytest.raises(WriteRefused):
            tools.call("create_note", {"path": path, "text": "evil"})
    with pytest.raises(NoteExists, match="never overwrite"):
        tools.call("create_note", {"path": "Inbox/Ideas.md", "text": "replaced"})
    assert {p: p.read_bytes() for p in vault.rglob("*.md")} == before
    assert not (vault.parent / "outside.md").exists()

    made = tools.call("create_note", {"path": "Inbox/Chats/Summary of the bread chat", "text": "Rye needs a hot oven."})
    assert made["path"] == "Inbox/Chats/Summary of the bread chat.md" and made["indexed"] is True
    assert (vault / made["path"]).read_text() == "Rye needs a hot oven.\n"
    found = tools.call("search_notes", {"query": "summary of the bread chat", "k": 3})["results"]
    assert found[0]["path"] == made["path"]  # in the index when the call returns
    tools.call("append_to_note", {"path": "Inbox/Ideas.md", "text": "Second idea"})
    assert (vault / "Inbox/Ideas.md").read_text() == "First idea\nSecond idea\n"
    with pytest.raises(NoteNotFound):
        tools.call("append_to_note", {"path": "Inbox/Nothing.md", "text": "x"})
    with pytest.raises(WriteRefused):
        tools.call("append_to_note", {"path": "Tech/Postgres.md", "text": "x"})


def test_a_model_switch_while_tools_and_links_read_the_index_loses_none(tools_for, embedder, tmp_path):
    """Tools, `/open/` link lookups and the answer's min_score read the index outside a search: each holds it, so
    the writer's switch to a new model's index (which closes and drops the old one) fails none of them."""
    import shutil
    import threading

    tools = tools_for()
    searcher = tools._searcher
    settings = searcher._settings
    other_model = shutil.copytree(embedder.files.folder, tmp_path / "my-model")  # same weights, another model id
    changed = settings.model_copy(update={"embedding": settings.embedding.model_copy(update={"model": str(other_model)})})
    calls = {
        "read_note": lambda: tools.call("read_note", {"path": "Tech/Postgres.md"})["title"],
        "related_notes": lambda: tools.call("related_notes", {"path": "Baking/Sourdough.md", "k": 2})["related"][0]["path"]
        in {"Baking/Rye bread.md", "Baking/Focaccia.md"},
        "list_tags": lambda: len(tools.call("list_tags", {})["tags"]),
        "recent_notes": lambda: len(tools.call("recent_notes", {"n": 100})["notes"]),
        "open link": lambda: searcher.read(lambda index: searcher.links.resolve(index, "Tech/Kubernetes.md")).path,
        "embedding_model": lambda: searcher.embedding_model() is not None or "not catalogued",
    }
    expected = {name: call() for name, call in calls.items()}
    switched, errors, answers = threading.Event(), [], []

    def keep_calling(name):
        after = 0
        while after < 3:  # until a few calls have run on the new index
            after += switched.is_set()
            try:
                answers.append((name, calls[name]()))
            except Exception as exc:
                errors.append((name, exc))
                return

    threads = [threading.Thread(target=keep_calling, args=(name,)) for name in calls]
    for thread in threads:
        thread.start()
    sync_vault(changed)
    switched.set()
    for thread in threads:
        thread.join()
    assert not errors
    assert {name for name, _ in answers} == set(calls)
    assert all(answer == expected[name] or name == "embedding_model" for name, answer in answers)
    assert searcher.read(lambda index: index.model_id) == str(other_model)
    assert searcher._active._holders == {}
