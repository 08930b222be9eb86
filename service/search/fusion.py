"""Combining ranked lists of chunks into one order, per note, and keeping at most a few chunks per note.

Two ways to combine lists (`retrieval.fusion`):
- "scores" (the default): a weighted sum of each list's scores, min-max normalised per query to 0..1 (the convex
  combination of Bruch et al., "An Analysis of Fusion Functions for Hybrid Retrieval", 2023). It uses how far
  ahead a hit is, not only its place, and measured best on SciFact (see the README).
- "rrf": reciprocal rank fusion (Cormack et al., 2009): weight / (RRF_K + rank) summed over the lists. It needs
  only ranks, so it suits lists whose scores mean nothing.

Lists rank chunks, but two lists often prefer different chunks of the same note; fusing chunk ids alone would then
credit neither with both. So notes are fused (each list contributes its best chunk of a note), a note's best chunk
carries the note's score, and its other chunks keep their own chunk-level score (never higher), so they appear
only where their own evidence puts them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Callable, Iterable, Literal

RRF_K = 60  # the constant of the original paper; it damps the difference between the first few ranks

Ranked = list[tuple[str, float]]  # (chunk id, score), best first
Method = Literal["scores", "rrf"]


def reciprocal_rank_fusion(rankings: Iterable[tuple[list[str], float]], k: int = RRF_K) -> dict[str, float]:
    """Fused score of every id in `rankings` ((ids best first, weight) pairs), highest first."""
    scores: dict[str, float] = defaultdict(float)
    for ids, weight in rankings:
        for rank, item in enumerate(ids, start=1):
            scores[item] += weight / (k + rank)
    return dict(sorted(scores.items(), key=lambda kv: -kv[1]))


def fuse_by_note(lists: list[tuple[Ranked, float]], note_of: Callable[[str], str],
                 method: Method = "scores") -> dict[str, float]:
    """Every chunk of `lists` ((ranked chunks, weight) pairs) with its fused score, highest first."""
    chunk_scores: dict[str, float] = defaultdict(float)
    note_scores: dict[str, float] = defaultdict(float)
    for ranked, weight in lists:
        contributions = _contributions(ranked, weight, method)
        notes_seen: list[str] = []
        for item, value in contributions:
            chunk_scores[item] += value
            note = note_of(item)
            if note not in notes_seen:  # the note's best chunk in this list
                notes_seen.append(note)
                note_scores[note] += weight / (RRF_K + len(notes_seen)) if method == "rrf" else value
    fused, best_taken = {}, set()
    for item, score in sorted(chunk_scores.items(), key=lambda kv: -kv[1]):  # a note's first chunk is its best
        note = note_of(item)
        fused[item] = note_scores[note] if note not in best_taken else score
        best_taken.add(note)
    return dict(sorted(fused.items(), key=lambda kv: -kv[1]))


def cap_per_note(ids: Iterable[str], note_of: Callable[[str], str], per_note: int) -> list[str]:
    """`ids` in order, keeping at most `per_note` of each note's chunks (0 keeps all)."""
    if per_note <= 0:
        return list(ids)
    taken: Counter[str] = Counter()
    kept = []
    for item in ids:
        note = note_of(item)
        if taken[note] < per_note:
            taken[note] += 1
            kept.append(item)
    return kept


def _contributions(ranked: Ranked, weight: float, method: Method) -> list[tuple[str, float]]:
    if method == "rrf":
        return [(item, weight / (RRF_K + rank)) for rank, (item, _) in enumerate(ranked, start=1)]
    if not ranked:
        return []
    low, high = min(s for _, s in ranked), max(s for _, s in ranked)
    span = high - low
    return [(item, weight * ((score - low) / span if span else 1.0)) for item, score in ranked]
