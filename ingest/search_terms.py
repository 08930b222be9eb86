"""The terms the lexical (BM25) index stores and searches: the same function for note text and for queries.

Words are lower-cased and Unicode-normalised; English stop words are dropped and the rest stemmed (Snowball, via
PyStemmer), so "studies" finds "study". Scripts written without spaces between words (Chinese, Japanese, Thai, Lao,
Khmer, Myanmar) become overlapping character pairs, the usual way to search them without a dictionary: "東京都"
gives "東京" and "京都", so a query for "京都" finds it.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import regex
import Stemmer

_WORD = regex.compile(r"[\p{L}\p{N}\p{M}]+")
_NO_SPACES = regex.compile(r"([\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{M}ー]+)")
_HAS_NO_SPACE_SCRIPT = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}]")

# English function words (the usual IR list): they match almost every note and only slow a query down.
STOP_WORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below between both but
by can could did do does doing down during each few for from further had has have having he her here hers herself
him himself his how i if in into is it its itself just me more most my myself no nor not now of off on once only or
other our ours ourselves out over own same she should so some such than that the their theirs them themselves then
there these they this those through to too under until up very was we were what when where which while who whom why
will with would you your yours yourself yourselves
""".split())

_stemmer = Stemmer.Stemmer("english")


def terms(text: str) -> list[str]:
    """The index terms of `text`, in order (repeats kept: BM25 counts them)."""
    out: list[str] = []
    for word in _WORD.findall(unicodedata.normalize("NFKC", text).lower()):
        if _HAS_NO_SPACE_SCRIPT.search(word):
            for part in _NO_SPACES.split(word):
                if part and _HAS_NO_SPACE_SCRIPT.search(part):
                    out.extend(_pairs(part))
                elif part:
                    out.extend(_words(part))
        else:
            out.extend(_words(word))
    return out


def _words(word: str) -> list[str]:
    return [] if word in STOP_WORDS else [_stem(word)]


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return _stemmer.stemWord(word)


def _pairs(run: str) -> list[str]:
    """Overlapping character pairs of a run of letters; a combining mark stays with the letter before it."""
    letters = regex.findall(r"\X", run)  # grapheme clusters: Thai and Khmer vowel signs stay on their consonant
    if len(letters) == 1:
        return letters
    return [a + b for a, b in zip(letters, letters[1:])]
