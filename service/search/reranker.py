"""The optional cross-encoder reranker: re-orders the best fused results by reading question and chunk together.

`retrieval.reranker`: "off"; "auto" (the catalogue's default reranker, when this machine can afford it and the
model is already downloaded); a catalogued model id; or a folder holding a sentence-transformers CrossEncoder.
Nothing is ever downloaded: a model that is not on disk is skipped with one log line saying how to get it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

from vaultrag.config.catalogue import RerankerModel, load_catalogue
from vaultrag.config.hardware import HardwareProfile, probe
from vaultrag.ingest.embedder import cached_model

log = logging.getLogger(__name__)

DEFAULT_DEPTH = 30


class Reranker(Protocol):
    depth: int  # how many of the fused results it re-orders

    def order(self, query: str, texts: list[str]) -> list[int]:
        """Indexes into `texts`, most relevant first."""


class CrossEncoderReranker:
    def __init__(self, path: str, device: str, depth: int):
        from sentence_transformers import CrossEncoder

        self.depth = depth
        self._model = CrossEncoder(path, device=None if device == "auto" else device, local_files_only=True)

    def order(self, query: str, texts: list[str]) -> list[int]:
        scores = self._model.predict([(query, text) for text in texts], batch_size=32, show_progress_bar=False)
        return sorted(range(len(texts)), key=lambda n: -float(scores[n]))


def open_reranker(setting: str, device: str, machine: HardwareProfile | None = None) -> Reranker | None:
    """The reranker `setting` asks for, or None (with a log line saying why) when it is off or cannot be used."""
    if setting == "off":
        return None
    if Path(setting).expanduser().is_dir():
        return CrossEncoderReranker(str(Path(setting).expanduser()), device, DEFAULT_DEPTH)
    model = load_catalogue().reranker(setting)
    if model is None:
        log.warning("retrieval.reranker = %r is neither a catalogued reranker nor a folder; searching without one",
                    setting)
        return None
    if setting == "auto" and not _affordable(model, machine or probe()):
        log.info("reranker %s skipped: this machine cannot afford it (needs %.1f GB free RAM%s)", model.id,
                 model.min_available_gb, " and a GPU" if model.needs_accelerator else "")
        return None
    path = cached_model(model.id)
    if path is None:
        log.info("reranker %s skipped: it is not downloaded (vaultrag downloads nothing by itself; fetch it once "
                 "with `vaultrag models pull %s`, or set retrieval.reranker = \"off\")", model.id, model.id)
        return None
    log.info("reranking the top %d results with %s", model.depth, model.id)
    return CrossEncoderReranker(str(path), device, model.depth)


def _affordable(model: RerankerModel, machine: HardwareProfile) -> bool:
    free = machine.ram_available_gb if machine.ram_available_gb is not None else machine.ram_total_gb / 2
    return free >= model.min_available_gb and (machine.accelerator != "cpu" or not model.needs_accelerator)

