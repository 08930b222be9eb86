"""Where one vault's index lives in its data dir, which collection is active, and its one-writer lock.

    <data dir>/chroma/                  embedded ChromaDB (absent with a Chroma server)
    <data dir>/manifests/<name>.sqlite  one manifest per collection (per embedding model)
    <data dir>/active                   the name of the collection searches use
    <data dir>/writer.lock              held by the one process that writes (ingest.writer_lock)

A new embedding model gets a new collection and manifest; `active` switches to it only once it is complete, so
vectors of two models never mix and searches keep working while the new index builds.
"""

from __future__ import annotations

import hashlib
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from vaultrag.config.errors import VaultragError
from vaultrag.ingest.errors import storage_error
from vaultrag.ingest.manifest import Manifest
from vaultrag.ingest.store import VectorStore, open_client
from vaultrag.ingest.writer_lock import WriterLock


def collection_name(vault: Path, model_id: str) -> str:
    """Chroma-safe and unique per vault and model, so one Chroma server can hold many vaults."""
    digest = hashlib.sha256(f"{vault}\0{model_id}".encode()).hexdigest()[:16]
    return f"vaultrag-{digest}"


@dataclass
class Index:
    """A manifest and its collection: they always change together."""

    name: str
    manifest: Manifest
    store: VectorStore

    @property
    def model_id(self) -> str | None:
        return self.manifest.get_meta("model_id")

    def close(self) -> None:
        self.manifest.close()


def _fsync_dir(path: Path) -> None:
    """Make a rename in `path` durable (POSIX; Windows has no directory fsync and needs none)."""
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DataDir:
    def __init__(self, path: Path, store_url: str = ""):
        self.path = path
        self.store_url = store_url
        self._client = None

    @property
    def client(self):
        if self._client is None:
            with self.guard():
                self.path.mkdir(parents=True, exist_ok=True)
            self._client = open_client(self.store_url, self.path)
        return self._client

    @contextmanager
    def guard(self):
        """Turn a failure to read or write this data dir because its disk is full or read-only into
        DataDirUnwritable, which says so and names it; other errors pass unchanged."""
        try:
            yield
        except VaultragError:
            raise
        except Exception as exc:
            error = storage_error(self.path, exc)
            if error is None:
                raise
            raise error from exc

    def manifest_path(self, name: str) -> Path:
        return self.path / "manifests" / f"{name}.sqlite"

    def active_name(self) -> str | None:
        try:
            return (self.path / "active").read_text().strip() or None
        except FileNotFoundError:
            return None

    def set_active(self, name: str) -> None:
        """Switch searches to `name`; once this returns the switch survives a power cut (file and folder fsynced)."""
        with self.guard():
            tmp = self.path / "active.tmp"
            with open(tmp, "w") as f:
                f.write(name)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path / "active")
            _fsync_dir(self.path)

    def open_index(self, name: str, model_id: str) -> Index:
        with self.guard():
            manifest = Manifest(self.manifest_path(name))
            if manifest.get_meta("model_id") is None:
                with manifest.transaction():
                    manifest.set_meta("model_id", model_id)
            return Index(name, manifest, VectorStore(self.client, name, model_id))

    def _built_active_name(self) -> str | None:
        """The active index's name when its manifest exists, else None (nothing indexed yet)."""
        name = self.active_name()
        return name if name is not None and self.manifest_path(name).is_file() else None

    def open_active(self) -> Index | None:
        """The index searches use (a reader: it never resets the store client or creates the collection), or None
        when nothing has been indexed yet."""
        name = self._built_active_name()
        if name is None:
            return None
        with self.guard():
            manifest = Manifest(self.manifest_path(name))
            model_id = manifest.get_meta("model_id") or ""
            try:
                store = VectorStore(self.client, name, model_id, writer=False)
            except BaseException:
                manifest.close()
                raise
            return Index(name, manifest, store)

    def active_model_id(self) -> str | None:
        """The embedding model of the active index, from its manifest alone (the vector store stays closed)."""
        name = self._built_active_name()
        if name is None:
            return None
        with self.guard():
            manifest = Manifest(self.manifest_path(name))
            try:
                return manifest.get_meta("model_id")
            finally:
                manifest.close()

    def drop_index(self, name: str) -> None:
        try:
            VectorStore(self.client, name, "").drop()
        except Exception:
            pass  # already gone
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.manifest_path(name)}{suffix}").unlink(missing_ok=True)

    def writer_lock(self, **info) -> WriterLock:
        self.path.mkdir(parents=True, exist_ok=True)
        return WriterLock(self.path / "writer.lock", info)
