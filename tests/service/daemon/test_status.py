"""The daemon's live status as a first index runs, and `vaultrag status` with no daemon running: the shape of
/api/status, read from the index on disk."""

from __future__ import annotations

import json

from vaultrag.ingest.pipeline import sync_vault
from vaultrag.service.daemon.status import IndexStatus, offline_status

BOARD = {"nodes": [{"id": "t", "type": "text", "x": 0, "y": 0, "width": 300, "height": 100,
                    "text": "Replace the leaking faucet under the sink."}], "edges": []}


def test_the_offline_status_counts_the_indexed_files_by_kind(write_vault, settings_for, embedder):
    vault = write_vault({"Garden.md": "# Garden\n\nWater the tomatoes.", "Kitchen.md": "# Kitchen\n\nBake bread.",
                         "Board.canvas": json.dumps(BOARD)})
    settings = settings_for(vault)
    assert sync_vault(settings, embedder=embedder).kinds == {"note": 2, "canvas": 1}
    status = offline_status(settings)
    assert status["state"] == "stopped" and status["files_total"] == 3
    assert status["kinds"] == {"note": 2, "canvas": 1}


def test_the_embedded_count_grows_while_a_first_index_runs(write_vault, settings_for, embedder, monkeypatch):
    """A user watching a long first index sees the chunks embedded so far, not 0 until the very end."""
    from vaultrag.ingest import sync as sync_module

    monkeypatch.setattr(sync_module, "BATCH_CHUNKS", 1)  # a progress report after every note
    vault = write_vault({f"Note {i}.md": f"# Note {i}\n\nThe {i}th thing to remember." for i in range(3)})
    status, seen = IndexStatus(vault=str(vault), embedding_model=embedder.model_id), []

    def on_progress(progress):
        status.on_progress(progress, progress.chunks_written)
        seen.append(status.snapshot()["embedded_since_start"])

    summary = sync_vault(settings_for(vault), on_progress, embedder=embedder)
    assert seen[-1] == summary.embedded == 3 and 0 < min(s for s in seen if s) < 3
    status.on_synced(summary, "now")
    assert status.snapshot()["embedded_since_start"] == 3  # counted once, not again at the sync's end
