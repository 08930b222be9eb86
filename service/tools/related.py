"""Notes like a given note: the nearest chunks to the mean of its chunks' vectors, plus its links and backlinks."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vaultrag.ingest.index import Index

LINK_WEIGHT = 0.1  # a link between the notes, either way, adds this to their similarity
MAX_LINKED = 50  # linked notes looked at, at most


@dataclass
class Related:
    path: str
    similarity: float  # cosine of its best chunk with the note's mean vector (0 when unknown)
    links: list[str] = field(default_factory=list)  # "links to" (the note links to it), "linked from"

    @property
    def score(self) -> float:
        return self.similarity + LINK_WEIGHT * len(self.links)


def related_notes(index: Index, path: str, k: int) -> list[Related]:
    """The `k` notes most related to the indexed note at `path`, best first (it must be in the index)."""
    record = index.manifest.record(path)
    vectors = [vector for _, vector in index.store.get(record.chunk_ids)] if record and record.chunk_ids else []
    centre = _unit(np.mean([_unit(v) for v in vectors], axis=0)) if vectors else None
    found: dict[str, Related] = {}
    if centre is not None:
        for hit in index.store.query(centre, max(50, 5 * k), {"path": {"$ne": path}}):
            other = hit.metadata["path"]
            if other not in found:
                found[other] = Related(other, hit.score)
    lexical = index.manifest.lexical
    resolved = lexical.resolve(record.links if record else [])
    linked = {p: "links to" for p in resolved.values()}
    for source in index.manifest.linking_to(lexical.names_of(path)):
        linked[source] = "both" if linked.get(source) == "links to" else "linked from"
    linked.pop(path, None)
    for other, how in list(linked.items())[:MAX_LINKED]:
        entry = found.get(other) or found.setdefault(other, Related(other, _best(index, other, centre)))
        entry.links = ["links to", "linked from"] if how == "both" else [how]
    return sorted(found.values(), key=lambda r: (-r.score, r.path))[:k]


def _best(index: Index, path: str, centre: np.ndarray | None) -> float:
    record = index.manifest.record(path)
    if centre is None or record is None or not record.chunk_ids:
        return 0.0
    return max((float(np.dot(_unit(v), centre)) for _, v in index.store.get(record.chunk_ids)), default=0.0)


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / (np.linalg.norm(vector) or 1.0)
