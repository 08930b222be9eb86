"""`vaultrag status` with no daemon running: the shape of /api/status, read from the index on disk."""

from __future__ import annotations

import json

from vaultrag.ingest.pipeline import sync_vault
from vaultrag.service.daemon.status import offline_status

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
