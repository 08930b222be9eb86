"""Sync: compare the vault with the manifest and apply exactly the difference to the index.

The same code serves a first full index, a re-run, the daemon's startup reconcile and its watcher batches:
unchanged files cost a stat (or a hash, within RACY_NS of the last sync); touched files a read and a hash; only chunk
texts never seen before are embedded (vectors are found in the store by content hash, so moves reuse them).

Crash safety: files are marked `pending` in the manifest before the store is touched and `clean` after. A run
that does not finish leaves the manifest's `dirty` flag set, and the next run first checks the store's chunk ids
against the manifest (removing orphans, redoing files with missing chunks), so it converges to a clean build.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import numpy as np

from vaultrag.ingest.chunking import CHUNKER_VERSION
from vaultrag.ingest.embedders import ModelInfo, TextEmbedder
from vaultrag.ingest.index import Index
from vaultrag.ingest.lexical import LEXICAL_VERSION
from vaultrag.ingest.manifest import FileRecord, ProblemRecord
from vaultrag.ingest.markdown import PARSER_VERSION
from vaultrag.ingest.scan_scope import ScanScope
from vaultrag.ingest.note_plan import PlannedNote, file_record, problem_kind
from vaultrag.ingest.sources import SourceReader
from vaultrag.ingest.store import StoredChunk
from vaultrag.ingest.sync_model import Progress, SyncOptions, SyncProgress, SyncSummary
from vaultrag.ingest.vault import FileStat, NoteUnreadable, scan_vault

log = logging.getLogger(__name__)

BATCH_CHUNKS = 512  # chunks embedded and written per step; bounds memory and the work a crash can lose
EMBED_STEP = 64  # texts encoded between checks for a stop request: a shutdown waits for one step at most
RACY_NS = 2_000_000_000  # mtime this near the last scan: maybe changed within the tick (FAT 2 s): re-hashed (git's "racy")


class _Stopped(Exception):
    """A stop was requested while a batch was being embedded; nothing of that batch was written."""


class Syncer:
    """Applies the difference between a vault and one index. One Syncer per index: it is the only writer."""

    def __init__(self, vault: Path, index: Index, model: ModelInfo, embedder: TextEmbedder, options: SyncOptions):
        self.vault = vault
        self.index = index
        self.model = model
        self.embedder = embedder
        self.options = options
        self._stop: threading.Event | None = None
        self._summary = SyncSummary()
        self._reader = SourceReader(vault, options.max_bytes, options.limits, model.tokens, options.chunk_tokens,
                                    options.min_chunk_tokens)
        self._chunking = (f"{PARSER_VERSION}/{CHUNKER_VERSION}/{options.chunk_tokens}/{options.min_chunk_tokens}"
                          f"/lexical{LEXICAL_VERSION}" + "/ocr" * options.limits.ocr)  # OCR added: scans are read

    def run(self, progress: Progress | None = None, stop: threading.Event | None = None,
            paths: set[str] | None = None) -> SyncSummary:
        """Apply the difference; with `stop` set, return after the batch in hand, the index consistent. With `paths`
        (a watcher batch) only those and what lies below them, unless a full pass is due (unfinished run, new chunking)."""
        try:
            return self._run(progress, stop, paths)
        finally:
            self._reader.close()  # the parser child, if this run started one

    def _run(self, progress: Progress | None, stop: threading.Event | None, paths: set[str] | None) -> SyncSummary:
        started = time.monotonic()
        manifest = self.index.manifest
        summary = self._summary = SyncSummary()
        rechunk_all = self._rechunk = manifest.get_meta("chunking") != self._chunking
        dirty = manifest.get_meta("dirty") == "1"
        scope = ScanScope(paths) if paths is not None and not (dirty or rechunk_all) else None
        scanned_ns = time.time_ns()
        scan = scan_vault(self.vault, self.options.include, self.options.exclude, self.options.obsidian_ignore,
                          self.options.max_bytes, scope, self.options.limits.max_bytes)
        records = manifest.files(scope.paths if scope is not None else None)
        problems = {p: r for p, r in manifest.problems().items() if scope is None or scope.covers(p)}
        if dirty:
            self._repair(records)
        with manifest.transaction(durable=True):  # on disk before the store is touched: see _repair
            manifest.set_meta("dirty", "1")

        on_disk = {f.path: f for f in scan.files}
        scan_problems = {p.path: p for p in scan.problems}
        todo: list[FileStat] = []
        racy_from = int(manifest.get_meta("scanned_ns") or 0) - RACY_NS
        for f in scan.files:
            rec, prob = records.get(f.path), problems.get(f.path)
            if (rec and not rechunk_all and rec.state == "clean" and (rec.size, rec.mtime_ns) == (f.size, f.mtime_ns)
                    and rec.mtime_ns < racy_from):
                summary.unchanged += 1
            elif prob and not rec and not rechunk_all and (prob.size, prob.mtime_ns) == (f.size, f.mtime_ns):
                summary.unchanged += 1  # still the same bad file: reported again below, not re-read
            else:
                todo.append(f)
        gone = [p for p in records if p not in on_disk]

        found = len(scan.files) + len(scan.problems)
        if progress:
            progress(SyncProgress(found, len(todo), 0, 0))
        new_paths: dict[str, str] = {}  # content hash -> path, of the notes new to this index
        chunks_written = 0
        self._stop = self._reader.parser.stop = stop
        try:
            for files_read, batch in self._batches(todo, records, summary):
                chunks_written += self._apply(batch, records, summary)
                new_paths.update((p.content_hash, p.stat.path) for p in batch if p.stat.path not in records)
                if progress:
                    progress(SyncProgress(found, len(todo), files_read, chunks_written, summary.embedded))
                if stop is not None and stop.is_set():
                    raise _Stopped()
        except _Stopped:
            summary.complete = False
        if summary.complete:
            moves = {p: new_paths[records[p].content_hash] for p in gone if records[p].content_hash in new_paths}
            summary.renamed = len(moves)
            summary.indexed -= summary.renamed  # a rename is reported as such, not as a new note
            with manifest.transaction():
                for old_path, new_path in moves.items():
                    manifest.put_move(old_path, new_path)
            self._remove(gone, records, summary)
            self._record_problems(scan_problems, records, scope)

        with manifest.transaction():  # every batch is committed: consistent even when stopped early
            if summary.complete and scope is None:
                manifest.set_meta("chunking", self._chunking)
                manifest.set_meta("scanned_ns", str(scanned_ns))  # the racy window of a narrowed sync stays open
            manifest.set_meta("last_sync", time.strftime("%Y-%m-%dT%H:%M:%S%z"))
            manifest.set_meta("dirty", "0")
        for prob in manifest.problems().values():
            (summary.skipped if prob.kind == "skipped" else summary.failed).append({"path": prob.path, "reason": prob.reason})
        summary.kinds = manifest.kind_counts()
        summary.files_total = sum(summary.kinds.values())
        summary.chunks_total = self.index.store.count()
        summary.seconds = round(time.monotonic() - started, 3)
        return summary

    # reading and planning
    def _batches(self, todo: list[FileStat], records: dict[str, FileRecord], summary: SyncSummary):
        """Read, hash, parse and chunk files; yield (files read so far, about BATCH_CHUNKS chunks of notes)."""
        batch: list[PlannedNote] = []
        size = 0
        for files_read, stat in enumerate(todo, start=1):
            if self._stop is not None and self._stop.is_set():  # a scanned PDF can take minutes: stop between files
                raise _Stopped()
            planned = self._plan(stat, records.get(stat.path), summary)
            if planned is not None:
                batch.append(planned)
                size += len(planned.chunks)
            if size >= BATCH_CHUNKS or (files_read == len(todo) and batch):
                yield files_read, batch
                batch, size = [], 0

    def _plan(self, stat: FileStat, rec: FileRecord | None, summary: SyncSummary) -> PlannedNote | None:
        try:
            source = self._reader.read(stat)
            touched = rec and rec.state == "clean" and rec.content_hash == source.content_hash and not self._rechunk
            planned = None if touched else source.plan()
        except NoteUnreadable as exc:
            self._problem(stat, problem_kind(exc.reason), exc.reason, rec)
            return None
        except Exception as exc:  # a parser bug must cost one file, never the whole sync
            if self._stop is not None and self._stop.is_set():
                raise _Stopped() from exc  # the parser child was stopped for a shutdown: not the file's fault
            log.exception("could not parse %s", stat.path)
            self._problem(stat, "failed", f"could not be parsed ({type(exc).__name__}: {exc})", rec)
            return None
        if planned is None:  # touched, not changed: no store work
            rec.size, rec.mtime_ns = stat.size, stat.mtime_ns
            with self.index.manifest.transaction():
                self.index.manifest.put_file(rec)
            summary.unchanged += 1
            return None
        summary.indexed += 1
        return planned

    # writing
    def _apply(self, batch: list[PlannedNote], records: dict[str, FileRecord], summary: SyncSummary) -> int:
        """Embed first (interruptible, touches nothing), then pending -> store writes -> clean."""
        manifest, store = self.index.manifest, self.index.store
        paths = [p.stat.path for p in batch]
        chunks = [c for p in batch for c in p.chunks]
        vectors = self._vectors(chunks)
        with manifest.transaction(durable=True):
            for planned in batch:
                if planned.stat.path in records:
                    manifest.mark_pending(planned.stat.path)
                else:
                    manifest.put_file(file_record(planned, state="pending"))
        before = store.ids_for_paths(paths)
        store.add(chunks, vectors)
        keep = {c.id for c in chunks}
        stale = sorted(before - keep)
        store.delete(stale)
        with manifest.transaction():
            for planned in batch:
                manifest.put_file(file_record(planned, state="clean"))
                manifest.lexical.put(planned.stat.path, [planned.title, *planned.aliases],
                                     [(c.id, c.text) for c in planned.chunks])
                manifest.delete_problem(planned.stat.path)
        summary.chunks_added += len(keep - before)
        summary.chunks_removed += len(stale)
        return len(chunks)

    def _vectors(self, chunks: list[StoredChunk]) -> np.ndarray:
        hashes = [c.metadata["content_hash"] for c in chunks]
        known = self.index.store.vectors_by_hash(sorted(set(hashes)))
        missing = {h: c.text for h, c in zip(hashes, chunks) if h not in known}
        todo = list(missing.items())
        for start in range(0, len(todo), EMBED_STEP):
            if self._stop is not None and self._stop.is_set():
                raise _Stopped()
            step = todo[start:start + EMBED_STEP]
            known.update(zip([h for h, _ in step], self.embedder.embed([text for _, text in step])))
            self._summary.embedded += len(step)  # this sync's own count: searches meanwhile are not in it
        return np.stack([known[h] for h in hashes]) if chunks else np.zeros((0, 1), np.float32)

    def _remove(self, paths: list[str], records: dict[str, FileRecord], summary: SyncSummary) -> None:
        if not paths:
            return
        manifest, store = self.index.manifest, self.index.store
        with manifest.transaction(durable=True):
            for path in paths:
                manifest.mark_pending(path)
        ids = store.ids_for_paths(paths) | {i for p in paths for i in records[p].chunk_ids}
        store.delete(sorted(ids))
        with manifest.transaction():
            for path in paths:
                manifest.delete_file(path)
                manifest.lexical.delete(path)
        summary.deleted += len(paths) - summary.renamed
        summary.chunks_removed += len(ids)

    def _problem(self, stat: FileStat, kind: str, reason: str, rec: FileRecord | None) -> None:
        log.warning("%s %s: %s", kind, stat.path, reason)
        if rec:  # it was indexed before and can no longer be read: drop it as a clean build would
            self._remove([stat.path], {stat.path: rec}, SyncSummary())
        with self.index.manifest.transaction():
            self.index.manifest.put_problem(ProblemRecord(stat.path, stat.size, stat.mtime_ns, kind, reason))

    def _record_problems(self, scan_problems: dict, records: dict[str, FileRecord], scope: ScanScope | None) -> None:
        """Scan-time problems replace what was indexed under that path; problems of vanished files are dropped
        (of those the scan looked at: all, or a watcher batch's)."""
        manifest = self.index.manifest
        known = {p: r for p, r in manifest.problems().items() if scope is None or scope.covers(p)}
        for path, prob in scan_problems.items():
            if path in records or path not in known or known[path].reason != prob.reason:  # new: said once
                self._problem(FileStat(path, 0, 0), problem_kind(prob.reason), prob.reason, records.get(path))
        indexed = manifest.paths() if scope is None else set(manifest.files(scope.paths))
        with manifest.transaction():
            for path in known:
                if path not in scan_problems and (path in indexed or not (self.vault / path).exists()):
                    manifest.delete_problem(path)

    def _repair(self, records: dict[str, FileRecord]) -> None:
        """After an unfinished run: remove chunks no manifest row owns; redo files whose chunks are missing."""
        store, manifest = self.index.store, self.index.manifest
        stored = store.all_ids()
        owned = {i for rec in records.values() for i in rec.chunk_ids}  # a pending file's old chunks serve until redone
        pending = {p for p, rec in records.items() if rec.state == "pending" or not set(rec.chunk_ids) <= stored}
        orphans = stored - owned
        store.delete(sorted(orphans))
        with manifest.transaction(durable=True):
            for path in pending:
                manifest.mark_pending(path)
        for path in pending:
            records[path].state = "pending"
        log.info("recovered from an unfinished run: %d orphan chunks removed, %d files to redo", len(orphans), len(pending))
