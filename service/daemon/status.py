"""The daemon's live state, as `/api/status` and `vaultrag status` show it; updated by the index writer only."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field

from vaultrag.config.settings import Settings
from vaultrag.ingest.index import DataDir
from vaultrag.ingest.sync import SyncProgress, SyncSummary


@dataclass
class IndexStatus:
    vault: str
    embedding_model: str
    embedding_choice_reason: str = ""  # why this model: `auto`'s reason, or that the settings name it
    llm_model: str = ""
    llm_choice_reason: str = ""
    state: str = "starting"  # starting | indexing | ready | error | paused (embedding server down)
    files_total: int = 0
    files_indexed: int = 0
    files_pending: int = 0
    files_failed: int = 0
    chunks: int = 0
    last_sync: str | None = None
    last_sync_seconds: float | None = None
    failed: list[dict] = field(default_factory=list)  # [{"path", "reason"}], skipped and failed files
    progress: float = 0.0
    error: str | None = None  # why the last sync failed (state "error"); it is retried, and cleared once one succeeds
    watch_mode: str | None = None
    embedded_since_start: int = 0  # chunk texts this daemon sent to the model: 0 after a restart with no change
    kinds: dict[str, int] = field(default_factory=dict)  # indexed files by kind: {"note": 120, "pdf": 4, "canvas": 1}

    def __post_init__(self):
        self._lock = threading.Lock()
        self._embedded_by_finished_syncs = 0

    def snapshot(self) -> dict:
        with self._lock:
            return {k: v for k, v in asdict(self).items() if not k.startswith("_")}

    def update(self, **changes) -> None:
        with self._lock:
            for key, value in changes.items():
                setattr(self, key, value)

    def on_progress(self, p: SyncProgress, chunks: int) -> None:
        pending = p.files_todo - p.files_done
        with self._lock:
            if p.files_todo:
                self.state = "indexing"
            self.files_total = p.files_found
            self.files_pending = pending
            self.files_indexed = max(p.files_found - pending - self.files_failed, 0)
            self.chunks = chunks
            self.progress = round(p.files_done / p.files_todo, 4) if p.files_todo else 1.0
            self.embedded_since_start = self._embedded_by_finished_syncs + p.embedded

    def on_synced(self, summary: SyncSummary, when: str) -> None:
        failed = summary.skipped + summary.failed
        with self._lock:
            self.state = "ready" if summary.complete else self.state
            self.files_indexed = summary.files_total
            self.files_failed = len(failed)
            self.files_total = summary.files_total + len(failed)
            self.files_pending = 0 if summary.complete else self.files_pending
            self.chunks = summary.chunks_total
            self.failed = failed
            self.last_sync = when
            self.last_sync_seconds = summary.seconds
            self.progress = 1.0 if summary.complete else self.progress
            self.error = None
            self._embedded_by_finished_syncs += summary.embedded
            self.embedded_since_start = self._embedded_by_finished_syncs
            self.kinds = dict(summary.kinds)


def offline_status(settings: Settings) -> dict:
    """The same shape as `/api/status`, read from the index on disk; only when no daemon holds it."""
    index = DataDir(settings.data_dir, settings.store.url).open_active() if settings.data_dir.is_dir() else None
    status = IndexStatus(vault=str(settings.vault_path), embedding_model=index.model_id if index else "",
                         state="stopped")
    if index is None:
        return status.snapshot()
    try:
        problems = [{"path": p.path, "reason": p.reason} for p in index.manifest.problems().values()]
        files = index.manifest.files()
        pending = sum(1 for rec in files.values() if rec.state == "pending")
        status.update(files_indexed=len(files) - pending, files_pending=pending, files_failed=len(problems),
                      files_total=len(files) + len(problems), chunks=index.store.count(), failed=problems,
                      last_sync=index.manifest.get_meta("last_sync"), progress=1.0 if not pending else 0.0,
                      kinds=index.manifest.kind_counts())
    finally:
        index.close()
    return status.snapshot()
