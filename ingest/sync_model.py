"""What a sync takes and gives: its options, its summary, and the progress it reports on the way."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from vaultrag.ingest.isolation import ParseLimits


@dataclass(frozen=True)
class SyncOptions:
    include: list[str]
    exclude: list[str]
    obsidian_ignore: bool
    max_bytes: int
    chunk_tokens: int  # budget per chunk text in model tokens, special tokens already subtracted
    min_chunk_tokens: int
    limits: ParseLimits = ParseLimits()  # PDFs and images: size, pages, time, memory, OCR


@dataclass
class SyncSummary:
    indexed: int = 0  # new or changed notes (re)chunked
    unchanged: int = 0
    renamed: int = 0
    deleted: int = 0
    skipped: list[dict] = field(default_factory=list)  # [{"path", "reason"}], by rule (binary, too large...)
    failed: list[dict] = field(default_factory=list)  # [{"path", "reason"}], errors reading or parsing
    chunks_added: int = 0
    chunks_removed: int = 0
    embedded: int = 0  # chunk texts sent to the model in this run
    files_total: int = 0
    kinds: dict[str, int] = field(default_factory=dict)  # indexed files by kind (ingest.kinds): {"note": 120, "pdf": 4}
    chunks_total: int = 0
    seconds: float = 0.0
    complete: bool = True  # False when stopped early (shutdown): the rest is done by the next sync


@dataclass(frozen=True)
class SyncProgress:
    files_found: int  # notes in the vault, indexable or not
    files_todo: int  # new, changed or redone files this run
    files_done: int
    chunks_written: int
    embedded: int = 0  # chunk texts sent to the model so far in this run


Progress = Callable[[SyncProgress], None]
