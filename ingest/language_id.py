"""Telling the language of a text, offline: py3langid's naive Bayes model of byte n-grams (over a hundred languages).

`identify` picks among every language the model knows (for a note or a chunk: nothing else is known about it);
`rank_among` picks among a few (for a question: the languages the index holds), which is what makes a question of
three words tell German from Dutch. The model loads once (about half a second) and then takes well under a
millisecond per text.
"""

from __future__ import annotations

import copy
import threading
from functools import lru_cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

_lock = threading.Lock()


def identify(text: str) -> tuple[str, float]:
    """(ISO 639 code, probability 0..1) of the likeliest language of `text`."""
    return _full().classify(text)


def rank_among(text: str, languages: frozenset[str]) -> list[tuple[str, float]]:
    """`languages` (those the model knows; others are left out) by how likely `text` is in each, best first."""
    known = frozenset(languages) & _labels()
    if len(known) < 2:
        return [(language, 1.0) for language in known]
    return _restricted(known).rank(text)


@lru_cache(maxsize=1)
def _full() -> LanguageIdentifier:
    with _lock:
        return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@lru_cache(maxsize=1)
def _labels() -> frozenset[str]:
    return frozenset(_full().labels)


@lru_cache(maxsize=16)
def _restricted(languages: frozenset[str]) -> LanguageIdentifier:
    restricted = copy.copy(_full())  # shares the model's arrays; set_languages replaces, never changes, them
    restricted.set_languages(sorted(languages))
    return restricted


MIN_PROBABILITY = 0.5  # below this a text's language is not taken as told (a heading alone, a list of names)


def language_of(text: str, fallback: str) -> str:
    """The language of `text` when it is told with MIN_PROBABILITY, else `fallback`."""
    language, probability = identify(text)
    return language if probability >= MIN_PROBABILITY else fallback
