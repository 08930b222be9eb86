"""`POST /api/search` on a running daemon: modes and filters as JSON, and errors that name the bad field."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_search_api_modes_and_filters(write_vault, start_daemon):
    vault = write_vault({
        "Garden/Tomatoes.md": "---\ntags: [garden]\n---\nWater tomatoes deeply twice a week in summer.",
        "Work/Office plants.md": "---\ntags: [work]\n---\nWater the office plants every Friday.",
        "Wifi.md": "The guest network password is XK42QZ-harbor.",
    })
    daemon = start_daemon(vault)
    daemon.wait_ready()

    def search(**body) -> list[dict]:
        response = daemon.post("/api/search", json={"k": 5, **body})
        assert response.status_code == 200, response.text
        return response.json()["results"]

    assert [r["path"] for r in search(query="watering", filters={"tags": ["#garden"]})] == ["Garden/Tomatoes.md"]
    assert [r["path"] for r in search(query="watering", filters={"path_prefix": "Work/"})] == ["Work/Office plants.md"]
    assert search(query="watering", filters={"modified_after": "2999-01-01"}) == []
    assert [r["path"] for r in search(query="tag:work watering")] == ["Work/Office plants.md"]
    exact = search(query="XK42QZ", mode="bm25")
    assert [r["path"] for r in exact] == ["Wifi.md"] and exact[0]["found_by"] == ["bm25"]

    bad_date = daemon.post("/api/search", json={"query": "x", "filters": {"modified_after": "last week"}})
    assert bad_date.status_code == 400 and "filters.modified_after" in bad_date.text
    bad_mode = daemon.post("/api/search", json={"query": "x", "mode": "fuzzy"})
    assert bad_mode.status_code == 400 and "mode" in bad_mode.text
    bad_inline = daemon.post("/v1/chat/completions", json={"model": "vaultrag", "messages": [
        {"role": "user", "content": "after:yesterday what did I plant?"}]})
    assert bad_inline.status_code == 400 and "modified_after" in bad_inline.json()["error"]["message"]
