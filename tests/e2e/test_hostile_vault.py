"""The daemon on the hostile vault (tests/hostile_vault.py): it keeps running, every good note can be found, and
`/api/status` lists every bad file with a reason a person understands."""

from __future__ import annotations

import pytest

from vaultrag.ingest.embedder import BUNDLED_MODEL
from tests.e2e.conftest import wait_for
from tests.hostile_vault import make_hostile_vault

pytestmark = pytest.mark.slow


def test_the_daemon_indexes_every_good_note_and_reports_every_bad_one(tmp_path, start_daemon):
    vault = make_hostile_vault(tmp_path / "vault")
    # The notes are in English: the bundled English model keeps the run short, whatever `auto` would pick.
    daemon = start_daemon(vault.root, env={"VAULTRAG_EMBEDDING__MODEL": BUNDLED_MODEL})
    status = daemon.wait_ready(timeout=300)

    assert daemon.proc.poll() is None
    assert status["files_indexed"] == len(vault.indexed)
    reasons = {item["path"]: item["reason"] for item in status["failed"]}
    assert set(reasons) == set(vault.reported)
    for path, words in vault.reported.items():
        assert all(word in reasons[path] for word in words), f"{path}: {reasons[path]!r} should say {words}"
    missed = {path: question for path, question in vault.topics.items()
              if path not in [hit["path"] for hit in daemon.search(question, 5)]}
    assert not missed

    # Bad files that appear while it runs are reported the same way; fixing one gets it indexed.
    (vault.root / "Broken/Late.md").write_bytes(b"\x00\x01late binary")
    wait_for(lambda: "Broken/Late.md" in {item["path"] for item in daemon.status()["failed"]}, 60,
             what="a binary note saved while running to be reported")
    (vault.root / "Broken/Late.md").write_text("The late train to the coast leaves at 23:10.\n")
    wait_for(lambda: any(hit["path"] == "Broken/Late.md" for hit in daemon.search("last train to the seaside", 5)),
             60, what="the fixed note to be found")
    assert "Broken/Late.md" not in {item["path"] for item in daemon.wait_ready()["failed"]}

    assert daemon.stop() == 0
    assert "Traceback" not in daemon.log()
