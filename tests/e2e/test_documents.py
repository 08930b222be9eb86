"""A real daemon with PDFs in its vault: a parser child that really crashes (SIGSEGV) costs one file, the daemon
goes on serving, and the Sources link of a PDF hit opens the PDF at its page in Obsidian, in the chat API and in
`vaultrag ask` (answered here or through the daemon)."""

from __future__ import annotations

import re
import shutil

import httpx
import pytest

from tests.e2e.conftest import run_cli, wait_for
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


def test_ask_names_the_page_of_a_pdf_source_and_links_to_it_here_and_through_the_daemon(
        tmp_path, write_vault, start_daemon, ollama_server):
    vault = write_vault({"Reading.md": "# Reading\nNotes on the tide tables.\n"})
    make_pdf(vault / "tides.pdf", ["High tide tables for the spring.", "The ferry to the island leaves at seven "
                                   "fifteen every morning from pier four."], title="Tide tables")
    data, question = str(tmp_path / "data"), "When does the ferry to the island leave?"
    llm = {"VAULTRAG_LLM__BASE_URL": ollama_server.url, "VAULTRAG_LLM__MODEL": ollama_server.model,
           "VAULTRAG_LLM__ANSWER_TOKENS": "16"}
    source = re.compile(r"^\d+\. Tide tables > Page 2  tides\.pdf  obsidian://open\?vault=vault&file=tides\.pdf%23page%3D2$",
                        flags=re.M)
    assert run_cli("index", "--vault", str(vault), "--data-dir", data, env=llm).returncode == 0
    here = run_cli("ask", question, "--vault", str(vault), "--data-dir", data, env=llm)
    assert here.returncode == 0, here.stderr
    assert source.search(here.stdout.split("\nSources\n")[1]), here.stdout

    start_daemon(vault, data_dir=tmp_path / "data", env=llm).wait_ready()
    through = run_cli("ask", question, "--vault", str(vault), "--data-dir", data)  # no LLM here: the daemon's answers
    assert through.returncode == 0, through.stderr
    assert source.search(through.stdout.split("\nSources\n")[1]), through.stdout
