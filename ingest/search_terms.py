"""The terms the lexical (BM25) index stores and searches: the same function for note text and for queries.

Words are lower-cased, Unicode-normalised and stemmed with the Snowball stemmer of the text's language (PyStemmer
covers German, Spanish, French, Russian, Portuguese, Italian, Dutch, Swedish, Polish, Turkish, Czech and 20 more),
so "studies" finds "study" and "Dateien" finds "Datei"; a language without a stemmer keeps its words whole.
English stop words are dropped. Other languages keep theirs: with the `stop-words` package's lists BM25 found
fewer of tests/fixtures/multilingual's notes in every language but Japanese, Korean and Chinese (recall@5 0.83
against 0.88 without; 0.86 with only the words of one or two letters), and BM25's IDF already counts a word found
in every note for little. Scripts written without spaces between words (Chinese, Japanese, Thai,
Lao, Khmer, Myanmar) and Korean, whose particles stick to the word before them ("파일을" is "파일" + "을"), become
overlapping character pairs, the usual way to search them without a dictionary: "東京都" gives "東京" and "京都", so
a query for "京都" finds it. Latin words inside such text ("Python" in a Chinese note) are stemmed as English.

German compounds are stored whole ("roggensauerteig"); a German query meets them through `ingest.compounds`,
which looks for its words inside the index's compounds and splits its own, with the index's words as the dictionary
(the kept splitters are GPL-licensed, compound-split, or need Python 3.12, charsplit-fst).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import regex
import Stemmer

_NO_SPACE_SCRIPTS = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}"
_WORD = regex.compile(r"[\p{L}\p{N}\p{M}]+")
_NO_SPACES = regex.compile(rf"([{_NO_SPACE_SCRIPTS}\p{{M}}ー]+)")
_HAS_NO_SPACE_SCRIPT = regex.compile(rf"[{_NO_SPACE_SCRIPTS}]")

DEFAULT_LANGUAGE = "en"  # text too short or too mixed to tell is read as English, as before languages were told

# English function words (the usual IR list): they match almost every note and only slow a query down.
STOP_WORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below between both but
by can could did do does doing down during each few for from further had has have having he her here hers herself
him himself his how i if in into is it its itself just me more most my myself no nor not now of off on once only or
other our ours ourselves out over own same she should so some such than that the their theirs them themselves then
there these they this those through to too under until up very was we were what when where which while who whom why
will with would you your yours yourself yourselves
""".split())

# ISO 639-1 code -> PyStemmer's Snowball algorithm
STEMMERS = {
    "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "cs": "czech", "da": "danish", "nl": "dutch",
    "en": "english", "eo": "esperanto", "et": "estonian", "fi": "finnish", "fr": "french", "de": "german",
    "el": "greek", "hi": "hindi", "hu": "hungarian", "id": "indonesian", "ga": "irish", "it": "italian",
    "lt": "lithuanian", "ne": "nepali", "no": "norwegian", "nb": "norwegian", "nn": "norwegian", "fa": "persian",
    "pl": "polish", "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian", "es": "spanish",
    "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}
# Languages written in the scripts above: their words become pairs, and Latin words among them are English.
PAIRED_LANGUAGES = frozenset({"zh", "ja", "ko", "th", "lo", "km", "my", "wuu", "yue"})


def terms(text: str, language: str = DEFAULT_LANGUAGE) -> list[str]:
    """The index terms of `text` written in `language` (ISO 639 code), in order (repeats kept: BM25 counts them)."""
    language = DEFAULT_LANGUAGE if language in PAIRED_LANGUAGES else language
    out: list[str] = []
    for word in _WORD.findall(unicodedata.normalize("NFKC", text).lower()):
        if _HAS_NO_SPACE_SCRIPT.search(word):
            for part in _NO_SPACES.split(word):
                if part and _HAS_NO_SPACE_SCRIPT.search(part):
                    out.extend(_pairs(part))
                elif part:
                    out.extend(_words(part, language))
        else:
            out.extend(_words(word, language))
    return out


def _words(word: str, language: str) -> list[str]:
    return [] if language == "en" and word in STOP_WORDS else [stem(word, language)]


@lru_cache(maxsize=65536)
def stem(word: str, language: str) -> str:
    """`word` (lower case) reduced to its stem by the Snowball stemmer of `language`, if there is one."""
    stemmer = _stemmer(language)
    return stemmer.stemWord(word) if stemmer is not None else word


@lru_cache(maxsize=None)
def _stemmer(language: str) -> Stemmer.Stemmer | None:
    return Stemmer.Stemmer(STEMMERS[language]) if language in STEMMERS else None


def _pairs(run: str) -> list[str]:
    """Overlapping character pairs of a run of letters; a combining mark stays with the letter before it."""
    letters = regex.findall(r"\X", run)  # grapheme clusters: Thai and Khmer vowel signs stay on their consonant
    if len(letters) == 1:
        return letters
    return [a + b for a, b in zip(letters, letters[1:])]
