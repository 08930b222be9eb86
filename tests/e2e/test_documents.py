"""A real daemon with PDFs in its vault: a parser child that really crashes (SIGSEGV) costs one file, the daemon
goes on serving, and the Sources link of a PDF hit opens the PDF at its page in Obsidian."""

from __future__ import annotations

import shutil

import httpx
import pytest

from tests.e2e.conftest import wait_for
from tests.pdf_files import make_pdf
from vaultrag.ingest.parse_child import CRASH_HOOK
from vaultrag.service.search.links import NoteLinks

pytestmark = pytest.mark.slow


def test_a_crashing_parser_leaves_the_daemon_serving_and_page_links_open_the_page(tmp_path, write_vault,
                                                                                  start_daemon):
    vault = write_vault({"Reading.md": "# Reading\nNotes on ![[tides.pdf]].\n"})
    make_pdf(vault / "tides.pdf", ["High tide tables for the spring.", "The ferry to the island leaves at seven "
                                   "fifteen every morning from pier four."], title="Tide tables")
    shutil.copy(vault / "tides.pdf", vault / "hostile.pdf")
    data = tmp_path / "data"
    daemon = start_daemon(vault, data_dir=data, env={CRASH_HOOK: "hostile"})
    status = daemon.wait_ready()
    failed = {f["path"]: f["reason"] for f in status["failed"]}
    assert "SIGSEGV" in failed["hostile.pdf"] and status["kinds"] == {"note": 1, "pdf": 1}
    assert daemon.proc.poll() is None and daemon.get("/health").json() == {"status": "ok"}

    top = daemon.search("when does the ferry to the island leave")[0]
    assert (top["path"], top["page"], top["heading"]) == ("tides.pdf", 2, "Tide tables > Page 2")
    assert top["linked_from"] == ["Reading.md"]
    link = NoteLinks(vault, data, daemon.url).web(top["path"], top["heading"])  # as the answer's Sources link it
    hop = httpx.get(link, follow_redirects=False)
    assert hop.status_code == 307
    assert hop.headers["location"] == "obsidian://open?vault=vault&file=tides.pdf%23page%3D2"

    make_pdf(vault / "more.pdf", ["A second copy of the ferry timetable."])  # the daemon still indexes new files

    def indexed():
        state = daemon.status()
        return state if state["kinds"].get("pdf") == 2 else None
    assert wait_for(indexed, 60, what="the new PDF to be indexed")["state"] == "ready"
