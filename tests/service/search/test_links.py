"""Links to notes: the daemon's /open/ links carry opaque ids that only this data dir's secret resolves, stable
across restarts, following renames; obsidian:// links for people. A real index (embedded Chroma, the real model)."""

from __future__ import annotations

import re
import stat

from vaultrag.ingest.index import DataDir
from vaultrag.ingest.pipeline import sync_vault
from vaultrag.service.search.links import KEY_FILE, NoteLinks, NoteTarget

BASE = "http://127.0.0.1:8765"
ROUTER = "The wifi router lives at 192.168.1.1 in the hall cupboard, next to the fibre modem and the switch. " * 3
PRINTER = "The printer is in the study; its driver is on the NAS, and the spare toner is in the bottom drawer. " * 3
NOTES = {"Home/My Network.md": f"# My Network\n\n## Setup\n\n### Router\n{ROUTER}\n\n## Printer\n{PRINTER}\n",
         "Pancakes.md": "# Pancakes\nRest the batter for 30 minutes.\n"}


def test_web_links_name_no_note_and_keep_their_id_across_restarts(tmp_path):
    links = NoteLinks(tmp_path / "vault", tmp_path / "data", BASE)
    url = links.web("Home/My Network.md", "My Network > Setup > Router")
    assert re.fullmatch(rf"{re.escape(BASE)}/open/[0-9a-f]{{24}}\?h=[0-9a-f]{{24}}", url), url
    for word in ("Home", "Network", "Router", "Setup", ".md"):
        assert word not in url
    assert "?h=" not in links.web("Pancakes.md", "Pancakes")  # the note's top: no section
    assert NoteLinks(tmp_path / "vault", tmp_path / "data", BASE).web("Home/My Network.md", "My Network > Setup > Router") == url
    other = NoteLinks(tmp_path / "vault", tmp_path / "other-data", BASE).web("Home/My Network.md")
    assert other.split("/open/")[1] != url.split("/open/")[1].split("?")[0]  # another secret, another id
    assert stat.S_IMODE((tmp_path / "data" / KEY_FILE).stat().st_mode) == 0o600


def test_obsidian_links_open_the_note_at_a_section(tmp_path):
    links = NoteLinks(tmp_path / "vault", tmp_path / "data", BASE)
    assert links.obsidian("Home/My Network.md") == "obsidian://open?vault=vault&file=Home%2FMy%20Network"
    assert links.obsidian("Home/My Network.md", "Router") == \
        "obsidian://open?vault=vault&file=Home%2FMy%20Network%23Router"
    assert not (tmp_path / "data" / KEY_FILE).exists()  # obsidian links need no secret


def test_ids_resolve_to_indexed_notes_and_follow_renames(write_vault, settings_for, embedder):
    vault = write_vault(NOTES)
    (vault / ".trash").mkdir()
    (vault / ".trash/Old.md").write_text("# Old\ndeleted note\n")
    settings = settings_for(vault)
    sync_vault(settings, embedder=embedder)
    links = NoteLinks(vault, settings.data_dir, BASE)
    url = links.web("Home/My Network.md", "My Network > Setup > Router")
    note_id, section_id = url.split("/open/")[1].split("?h=")
    data = DataDir(settings.data_dir)

    index = data.open_active()
    try:
        assert links.resolve(index, note_id, section_id) == NoteTarget("Home/My Network.md", "Router")
        assert links.resolve(index, note_id) == NoteTarget("Home/My Network.md", "")
        assert links.resolve(index, "Pancakes.md", "x") == NoteTarget("Pancakes.md", "x")  # a link made before ids
        for nothing in ("0" * 24, ".trash/Old.md", "../Pancakes.md", "Home/Missing.md", ""):
            assert links.resolve(index, nothing) is None, nothing
    finally:
        index.close()

    (vault / "Home/My Network.md").rename(vault / "Network.md")
    sync_vault(settings, embedder=embedder)
    index = data.open_active()
    try:
        assert links.resolve(index, note_id, section_id) == NoteTarget("Network.md", "Router")
        assert links.resolve(index, "Home/My Network.md") == NoteTarget("Network.md", "")
    finally:
        index.close()
    assert links.obsidian("Network.md", "Router") == "obsidian://open?vault=vault&file=Network%23Router"


def test_obsidian_links_open_a_pdf_at_its_page_and_other_files_whole(tmp_path):
    links = NoteLinks(tmp_path / "vault", tmp_path / "data", BASE)
    assert links.obsidian("Papers/paper.pdf", "Page 3") == "obsidian://open?vault=vault&file=Papers%2Fpaper.pdf%23page%3D3"
    assert links.obsidian("Papers/paper.pdf") == "obsidian://open?vault=vault&file=Papers%2Fpaper.pdf"
    assert links.obsidian("Board.canvas", "Kitchen") == "obsidian://open?vault=vault&file=Board.canvas"
    assert links.obsidian("Notes/Page 3.md", "Page 3") == "obsidian://open?vault=vault&file=Notes%2FPage%203%23Page%203"
