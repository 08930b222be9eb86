"""The vector store: one ChromaDB collection per (vault, embedding model), embedded or on a Chroma server.

Chroma never computes embeddings here: vaultrag always passes its own vectors (Chroma's default embedding function
would try to download a model).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from ingest.errors import StoreUnavailable

log = logging.getLogger(__name__)

_BATCH = 2000  # rows per Chroma call; stays well under Chroma's max batch size


@dataclass(frozen=True)
class StoredChunk:
    """What goes into the store for one chunk; `metadata` holds path, title, heading, content_hash, tags..."""

    id: str
    text: str
    metadata: dict


@dataclass(frozen=True)
class Hit:
    id: str
    text: str
    metadata: dict
    score: float  # cosine similarity, 1.0 = same direction


def open_client(store_url: str, data_dir: Path):
    """A Chroma client: embedded in `data_dir/chroma`, or the server at `store_url`. Telemetry is always off."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if not store_url:
        return chromadb.PersistentClient(path=str(data_dir / "chroma"), settings=chroma_settings)
    url = urlparse(store_url)
    try:
        client = chromadb.HttpClient(host=url.hostname, port=url.port or 8000, ssl=url.scheme == "https",
                                     settings=chroma_settings)
        client.heartbeat()
    except Exception as exc:
        raise StoreUnavailable(f"cannot reach the Chroma server at {store_url} ({exc}); start it with "
                               f"`chroma run --path DIR --port {url.port or 8000}` or set store.url = \"\"") from None
    return client


class VectorStore:
    """One collection. Ids are chunk ids; metadata carries everything a search result shows."""

    def __init__(self, client, name: str, model_id: str):
        self._client = client
        self.name = name
        self._collection = client.get_or_create_collection(
            name, metadata={"embedding_model": model_id}, configuration={"hnsw": {"space": "cosine"}},
            embedding_function=None)

    def count(self) -> int:
        return self._collection.count()

    def add(self, chunks: list[StoredChunk], vectors: np.ndarray) -> None:
        for start in range(0, len(chunks), _BATCH):
            part = chunks[start:start + _BATCH]
            self._collection.upsert(ids=[c.id for c in part], documents=[c.text for c in part],
                                    metadatas=[c.metadata for c in part], embeddings=vectors[start:start + _BATCH])

    def delete(self, ids: list[str]) -> None:
        for start in range(0, len(ids), _BATCH):
            self._collection.delete(ids=ids[start:start + _BATCH])

    def vectors_by_hash(self, content_hashes: list[str]) -> dict[str, np.ndarray]:
        """Stored vectors for these chunk texts (keyed by content hash), so moved or repeated text is not re-embedded."""
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(content_hashes), _BATCH):
            part = content_hashes[start:start + _BATCH]
            got = self._collection.get(where={"content_hash": {"$in": part}}, include=["embeddings", "metadatas"])
            for meta, vector in zip(got["metadatas"], got["embeddings"]):
                found[meta["content_hash"]] = np.asarray(vector, dtype=np.float32)
        return found

    def ids_for_paths(self, paths: list[str]) -> set[str]:
        ids: set[str] = set()
        for start in range(0, len(paths), _BATCH):
            ids.update(self._collection.get(where={"path": {"$in": paths[start:start + _BATCH]}}, include=[])["ids"])
        return ids

    def all_ids(self) -> set[str]:
        return set(self._collection.get(include=[])["ids"])

    def query(self, vector: np.ndarray, k: int, where: dict | None = None) -> list[Hit]:
        if self.count() == 0:
            return []
        got = self._collection.query(query_embeddings=vector.reshape(1, -1), n_results=k, where=where,
                                     include=["documents", "metadatas", "distances"])
        return [Hit(id=i, text=doc, metadata=meta, score=1.0 - dist)
                for i, doc, meta, dist in zip(got["ids"][0], got["documents"][0], got["metadatas"][0],
                                              got["distances"][0])]

    def drop(self) -> None:
        self._client.delete_collection(self.name)
