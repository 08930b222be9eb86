"""Finding the chunks that answer a query in the active index, as the JSON results users and the API see."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import quote

from config.settings import Settings
from ingest.embedders import TextEmbedder, open_embedder
from ingest.index import DataDir, Index
from ingest.store import Hit


@dataclass(frozen=True)
class SearchResult:
    path: str
    title: str
    heading: str
    text: str
    score: float
    obsidian_url: str
    chunk_id: str
    tags: list[str]


def obsidian_url(vault: Path, path: str) -> str:
    """A link that opens the note in Obsidian (the vault is named by its folder name)."""
    note = path[:-3] if path.lower().endswith(".md") else path
    return f"obsidian://open?vault={quote(vault.name, safe='')}&file={quote(note, safe='')}"


class Searcher:
    """Searches the active index with the embedding model that built it (never a different one)."""

    def __init__(self, settings: Settings, embedder: TextEmbedder | None = None):
        self.vault = settings.vault_path
        self._data = DataDir(settings.data_dir, settings.store.url)
        self._settings = settings
        self._embedder = embedder
        self._index: Index | None = None
        self._lock = threading.Lock()

    def search(self, query: str, k: int = 5) -> list[SearchResult]:
        index = self._active()
        if index is None:
            return []
        vector = self._embedder_for(index.model_id).embed_query([query])[0]
        return [self._result(hit) for hit in index.store.query(vector, k)]

    def _active(self) -> Index | None:
        """The active index, reopened when the writer has switched to a new one (a model change)."""
        name = self._data.active_name()
        with self._lock:
            if self._index is None or self._index.name != name:
                if self._index is not None:
                    self._index.close()
                self._index = self._data.open_active()
            return self._index

    def _embedder_for(self, model_id: str) -> TextEmbedder:
        with self._lock:
            if self._embedder is None or self._embedder.model_id != model_id:
                self._embedder = open_embedder(model_id, self._settings.embedding.device,
                                               self._settings.embedding.batch_size)
            return self._embedder

    def _result(self, hit: Hit) -> SearchResult:
        meta = hit.metadata
        heading = meta.get("heading", "")
        text = hit.text.split("\n", 1)[1] if hit.text.startswith(heading + "\n") else hit.text
        return SearchResult(path=meta["path"], title=meta.get("title", ""), heading=heading, text=text.strip(),
                            score=round(hit.score, 4), obsidian_url=obsidian_url(self.vault, meta["path"]),
                            chunk_id=hit.id, tags=list(meta.get("tags") or []))

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None


def results_json(results: list[SearchResult]) -> dict:
    return {"results": [asdict(r) for r in results]}
