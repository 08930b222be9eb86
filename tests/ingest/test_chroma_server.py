"""store.url: the same index code against a real `chroma run` server started for this test."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from vaultrag.ingest.index import DataDir
from vaultrag.ingest.pipeline import sync_vault
from vaultrag.service.search.searcher import Searcher
from tests.e2e.conftest import free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def chroma_server(tmp_path):
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent))
    assert chroma, "the chroma CLI comes with the chromadb package"
    port = free_port()
    proc = subprocess.Popen([chroma, "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/api/v2/heartbeat", timeout=1).raise_for_status()
            break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("chroma run did not start within 30 s")
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def test_index_and_search_through_a_chroma_server(chroma_server, write_vault, settings_for, embedder):
    vault = write_vault({"Garden/Tomatoes.md": "# Tomatoes\nWater tomatoes deeply twice a week in summer.",
                         "Car.md": "The car needs new winter tyres in November."})
    settings = settings_for(vault, **{"store.url": chroma_server})
    summary = sync_vault(settings, embedder=embedder)
    assert summary.files_total == 2 and summary.chunks_total >= 2
    assert not (settings.data_dir / "chroma").exists()  # nothing embedded locally: the server holds the vectors

    searcher = Searcher(settings, embedder)
    assert searcher.search("how often to water tomatoes", 1)[0].path == "Garden/Tomatoes.md"
    searcher.close()

    (vault / "Car.md").unlink()
    assert sync_vault(settings, embedder=embedder).deleted == 1
    collections = httpx.get(f"{chroma_server}/api/v2/tenants/default_tenant/databases/default_database/collections").json()
    assert [c["name"] for c in collections] == [DataDir(settings.data_dir).active_name()]


def test_unreachable_server_is_a_clear_error(write_vault, settings_for, embedder):
    from vaultrag.ingest.errors import StoreUnavailable

    settings = settings_for(write_vault({"a.md": "x"}), **{"store.url": f"http://127.0.0.1:{free_port()}"})
    with pytest.raises(StoreUnavailable, match=r"cannot reach the Chroma server at http://127\.0\.0\.1:\d+.*chroma run"):
        sync_vault(settings, embedder=embedder)
