"""The vector store: one ChromaDB collection per (vault, embedding model), embedded or on a Chroma server.

Chroma never computes embeddings here: vaultrag always passes its own vectors (Chroma's default embedding function
would try to download a model).

Every call goes through one client per data dir or server in this process. A failed call of the writer's store
drops that client and is tried once more on a new one: a Chroma server that restarted is reconnected, and an
embedded Chroma, which keeps bad state after a write failed (a full disk), starts afresh from what it has on disk.
Only the writer resets: closing the client under a writer in the middle of an upsert would break it. A reader's
failed call is tried once more on the client as it is (the writer may have reset it meanwhile), and a reader never
creates a collection: one dropped by a model switch stays dropped.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from vaultrag.ingest.errors import StoreUnavailable, storage_error

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


def open_client(store_url: str, data_dir: Path) -> "StoreClient":
    """This process's client for `data_dir/chroma` (embedded) or the server at `store_url`, shared by its stores."""
    key = store_url or str((data_dir / "chroma").resolve())
    with _clients_lock:
        if key not in _clients:
            _clients[key] = StoreClient(store_url, data_dir)
        return _clients[key]


_clients: dict[str, "StoreClient"] = {}
_clients_lock = threading.Lock()


class StoreClient:
    """A Chroma client that connects on first use and again after `reset`. Telemetry is always off."""

    def __init__(self, store_url: str, data_dir: Path):
        self.url = store_url
        self.data_dir = data_dir
        self.generation = 0  # bumped by each reset, so stores know to fetch their collection again
        self._client = None
        self._lock = threading.Lock()

    def get(self):
        """(the Chroma client, its generation); raises StoreUnavailable when the server cannot be reached."""
        with self._lock:
            if self._client is None:
                self._client = _connect(self.url, self.data_dir)
            return self._client, self.generation

    def reset(self, generation: int) -> None:
        """Drop the client of `generation` after a failed call (once, however many stores saw it fail)."""
        with self._lock:
            if generation != self.generation:
                return
            client, self._client = self._client, None
            self.generation += 1
        if client is not None:
            try:
                client.close()  # the last client of an embedded Chroma stops it: the next one reloads from disk
            except Exception:
                pass

    def explain(self, exc: Exception) -> Exception:
        """The error to show for a failed call: the server is gone, the data dir is full or read-only, or `exc`."""
        if not self.url:
            return storage_error(self.data_dir, exc) or exc
        import httpx

        if isinstance(exc, (httpx.TransportError, ConnectionError)):
            return StoreUnavailable(f"lost the Chroma server at {self.url} ({exc or type(exc).__name__}); vaultrag "
                                    "reconnects when it is back")
        return exc


def _connect(store_url: str, data_dir: Path):
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

    def __init__(self, client: StoreClient, name: str, model_id: str, writer: bool = True):
        self._client = client
        self.name = name
        self._model_id = model_id
        self._writer = writer  # only the writer's store may reset the shared client, and create its collection
        self._chroma = None  # the Chroma collection, fetched again when the client has been reset
        self._generation = -1
        self._collection = _Calls(self)  # what the methods below call; each call goes through _call
        self._call(lambda collection: None)  # open it now: a store that cannot be reached fails here

    def _call(self, op):
        """`op(collection)`, once more on a new client if it fails; then the error a person can act on."""
        for attempt in (1, 2):
            generation = self._client.generation
            try:
                return op(self._current())
            except StoreUnavailable:
                raise
            except Exception as exc:
                if _caller_error(exc) and generation == self._client.generation:
                    raise
                if self._writer:
                    self._client.reset(generation)
                else:
                    self._chroma = None  # fetch the collection again (it may be gone: NotFoundError, no re-create)
                if attempt == 2:
                    if not self._writer and _missing(exc):
                        raise StoreUnavailable(f"the vector store has no collection {self.name} for the active "
                                               "index (a model switch removed it, or the store lost its data)") from exc
                    explained = self._client.explain(exc)
                    if explained is exc:
                        raise
                    raise explained from exc
                log.info("vector store call failed (%s: %s); reconnecting", type(exc).__name__, exc)

    def _current(self):
        client, generation = self._client.get()
        if self._chroma is None or generation != self._generation:
            if self._chroma is None and self._writer:
                self._chroma = client.get_or_create_collection(
                    self.name, metadata={"embedding_model": self._model_id},
                    configuration={"hnsw": {"space": "cosine"}}, embedding_function=None)
            else:  # a reader, or reconnected: never re-create a collection that was dropped meanwhile
                self._chroma = client.get_collection(self.name, embedding_function=None)
            self._generation = generation
        return self._chroma

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
        got = self._collection.query(query_embeddings=vector.reshape(1, -1), n_results=k, where=where,
                                     include=["documents", "metadatas", "distances"])
        # A chunk deleted meanwhile (a rename, an edit) can still be found in the vector index while its record is
        # gone: Chroma then gives None for its text and metadata, and it is left out.
        return [Hit(id=i, text=doc, metadata=meta, score=1.0 - dist)
                for i, doc, meta, dist in zip(got["ids"][0], got["documents"][0], got["metadatas"][0],
                                              got["distances"][0]) if doc is not None and meta is not None]

    def get(self, ids: list[str]) -> list[tuple[Hit, np.ndarray]]:
        """These chunks (score 0) with their vectors, in the order asked; ids not in the store are left out."""
        got = self._collection.get(ids=ids, include=["documents", "metadatas", "embeddings"])
        by_id = {i: (Hit(i, doc, meta, 0.0), np.asarray(vec, dtype=np.float32))
                 for i, doc, meta, vec in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"])}
        return [by_id[i] for i in ids if i in by_id]

    def neighbours(self, path: str, ordinals: list[int]) -> list[Hit]:
        """The chunks of one note at these positions, in note order."""
        got = self._collection.get(where={"$and": [{"path": path}, {"ordinal": {"$in": ordinals}}]},
                                   include=["documents", "metadatas"])
        hits = [Hit(i, doc, meta, 0.0) for i, doc, meta in zip(got["ids"], got["documents"], got["metadatas"])]
        return sorted(hits, key=lambda h: h.metadata["ordinal"])

    def drop(self) -> None:
        self._client.get()[0].delete_collection(self.name)


def _caller_error(exc: Exception) -> bool:
    """A mistake in the call itself (a bad argument, a duplicate id): a new client would fail the same way.

    Chroma's errors carry an HTTP-like code (`ChromaError.code()`, the same in embedded and server mode): under 500
    is the caller's, except 404 (a collection fetched before a reconnect may be found again on the new client)."""
    from chromadb.errors import ChromaError

    if isinstance(exc, ChromaError):
        return exc.code() < 500 and exc.code() != 404
    return isinstance(exc, (ValueError, TypeError))


def _missing(exc: Exception) -> bool:
    from chromadb.errors import ChromaError

    return isinstance(exc, ChromaError) and exc.code() == 404


class _Calls:
    """The collection as VectorStore's methods use it: `self._collection.get(...)` runs through `_call`."""

    def __init__(self, store: VectorStore):
        self._store = store

    def __getattr__(self, method: str):
        def call(*args, **kwargs):
            return self._store._call(lambda collection: getattr(collection, method)(*args, **kwargs))
        return call
