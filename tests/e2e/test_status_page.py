"""The status page at `/`, rendered by a real headless Chromium against a real daemon."""

from __future__ import annotations

import shutil
import subprocess

import pytest

pytestmark = pytest.mark.slow

CHROMIUM = next((c for c in ("chromium", "chromium-browser", "google-chrome") if shutil.which(c)), None)


def render(url: str, tmp_path) -> str:
    """The page's DOM after its scripts have run (status fetched, search answered)."""
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'chromium'}", "--virtual-time-budget=15000", "--dump-dom", url],
        capture_output=True, text=True, timeout=120, check=True).stdout


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium found (.ci/run installs Debian's chromium package)")
def test_page_shows_state_counts_failures_and_search_results(write_vault, start_daemon, tmp_path):
    vault = write_vault({"Garden/Tomatoes.md": "# Tomatoes\nWater the tomatoes deeply twice a week.\n",
                         "Car.md": "The car needs winter tyres.\n", "broken.md": b"\x00\x00not text",
                         "Garden/Compost.md": "Compost feeds the [[Tomatoes]] all summer.\n"})
    daemon = start_daemon(vault)
    daemon.wait_ready()
    dom = render(f"{daemon.url}/?q=watering%20tomatoes", tmp_path)
    assert 'class="state ready"' in dom and ">ready<" in dom
    assert "3 of 4 indexed, 0 pending, 1 skipped or failed" in dom
    assert "all-MiniLM-L6-v2" in dom and "already on this machine" in dom  # auto's reason, on hover
    assert ">llama3.2:3b<" in dom
    assert "<code>broken.md</code>: binary content, not a text note" in dom
    assert 'href="obsidian://open?vault=vault&amp;file=Garden%2FTomatoes"' in dom
    assert "Water the tomatoes deeply" in dom
    # the first result's related notes are listed: the compost note links to the tomatoes
    assert "<summary>Related notes</summary>" in dom and "Garden/Compost.md · " in dom and "· linked from" in dom
