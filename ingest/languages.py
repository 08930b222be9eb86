"""Which languages a vault is written in, from a sample of its notes: enough to know when English-only models fail it.

A note in a Latin-script language is told by its function words. Articles, prepositions, pronouns and conjunctions
are the commonest words of running text (in English "the", "of" and "and" alone are about one word in eight), any
topic uses them, and each language has its own: "the, and, of" against "el, los, y, pero" against "der, und, nicht". A word counts for a language only when no other
language here lists it ("de", "la", "que", "en" are left out), so every hit is evidence for one language alone. A note
in another alphabet (Cyrillic, Greek, Arabic, Hebrew, Devanagari, Thai) or in Chinese, Japanese or Korean is told by
its characters. Notes with too few words to tell (a title and a link) are left out of the shares.

Up to SAMPLE_NOTES notes spread evenly over the vault's sorted paths, SAMPLE_BYTES of each: the same vault gives the
same answer every time. A language is one of the vault's main languages from MAIN_SHARE of the notes told.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from vaultrag.ingest.properties import split_frontmatter
from vaultrag.ingest.vault import NoteUnreadable, decode_note, scan_vault

SAMPLE_NOTES = 200
SAMPLE_BYTES = 2048
MAIN_SHARE = 0.15
MIN_HITS = 3  # function words a note needs before its language counts
MIN_SCRIPT_SHARE = 0.3  # of a note's letters, for a language told by its alphabet

_FUNCTION_WORDS = {
    "en": "the and of to that it for with on are be this have from by not but or you they which can has were there "
          "their what would about if at my been one all we is when how should does do where our your after then",
    "es": "el la los las de que y en un una es por con para del se no lo al su como más pero sus este esta también "
          "muy hay está son cuando sobre entre hasta desde porque sin ya otro cada año años tiene hace después "
          "donde todo todos esto eso ese esa mi mis ni ahora así unos unas mismo hoy día qué cómo dónde cuánto "
          "cuál él ellos fue ser estar tener hacer puede debe",
    "fr": "le la les de des et est un une du en que qui dans pour pas sur au avec ce cette il elle nous vous sont "
          "mais ou plus aux très être avoir je à ils leur ont fait tout comme peut aussi bien où quand après",
    "de": "der die das und ist nicht ein eine den dem des zu mit auf für sich auch von im es wir ich sie werden wird "
          "oder aber wenn noch nach bei sind wie dass über vor hat haben kann muss schon immer nur sehr",
    "it": "il lo la gli le di che e è un una per con non del della sono si come anche questo questa nel alla ma più "
          "ho perché delle dei molto ci sul dalla degli hanno essere fatto quando dove dopo ancora",
    "pt": "o os as de que e do da dos das em um uma para com não no na por se mais como mas ao é foi ele ela são "
          "também muito você isso está pelo pela então quando onde ainda já tem ter seu sua eu meu minha aqui "
          "depois até hoje",
    "nl": "de het een en van is dat niet op te zijn voor met die ook als maar aan er bij nog wordt worden heeft naar "
          "deze dan wat kan ik je we hebben geen uit om zo wel veel",
}
_LISTED = Counter(word for words in _FUNCTION_WORDS.values() for word in set(words.split()))
_WORD_LANGUAGE = {word: language for language, words in _FUNCTION_WORDS.items() for word in words.split()
                  if _LISTED[word] == 1}

_SCRIPTS = {  # language: (first, last) code point
    "ko": (0xAC00, 0xD7AF), "ru": (0x0400, 0x04FF), "el": (0x0370, 0x03FF), "ar": (0x0600, 0x06FF),
    "he": (0x0590, 0x05FF), "hi": (0x0900, 0x097F), "th": (0x0E00, 0x0E7F),
}
_KANA, _HAN = (0x3040, 0x30FF), (0x4E00, 0x9FFF)  # Japanese mixes kana with Chinese characters (kanji)
_UKRAINIAN_LETTERS = set("іїєґІЇЄҐ")
_WORD = re.compile(r"[^\W\d_]+")
_NOISE = re.compile(r"```.*?(?:```|\Z)|`[^`\n]*`|https?://\S+|\[\[[^\]|]*\|?|<[^>\n]+>", re.S)  # code, URLs, link targets


@dataclass(frozen=True)
class VaultLanguages:
    main: frozenset[str]  # ISO 639-1 codes of the languages with at least MAIN_SHARE of the notes told
    shares: dict[str, float]  # every language found, by share of the notes told
    notes_sampled: int
    notes_told: int

    def describe(self) -> str:
        """E.g. "es 55 %, en 45 % of 30 notes sampled"."""
        if not self.notes_told:
            return f"no language told from {self.notes_sampled} notes sampled"
        found = ", ".join(f"{language} {share:.0%}".replace("%", " %") for language, share in self.shares.items())
        return f"{found} of {self.notes_sampled} notes sampled"


def detect_languages(vault: Path, include=("**/*.md",), exclude=(), obsidian_ignore: bool = True) -> VaultLanguages:
    """The vault's languages, from up to SAMPLE_NOTES of the notes that `include` and `exclude` select."""
    files = scan_vault(vault, include, exclude, obsidian_ignore).files
    step = max(len(files) / SAMPLE_NOTES, 1.0)
    sample = [files[int(i * step)].path for i in range(min(len(files), SAMPLE_NOTES))]
    told = Counter(language for path in sample if (language := note_language(_head(vault / path))))
    total = sum(told.values())
    shares = {language: told[language] / total for language in sorted(told, key=lambda code: (-told[code], code))}
    return VaultLanguages(frozenset(language for language, share in shares.items() if share >= MAIN_SHARE), shares,
                          len(sample), total)


def note_language(text: str) -> str | None:
    """The language of one note's text, or None when it holds too few words to tell."""
    text = _NOISE.sub(" ", split_frontmatter(text).body)
    letters = [char for char in text if char.isalpha()]
    if not letters:
        return None
    kana, han = _count(letters, *_KANA), _count(letters, *_HAN)
    if kana + han >= MIN_SCRIPT_SHARE * len(letters):
        return "ja" if kana >= 0.1 * (kana + han) else "zh"
    for language, (first, last) in _SCRIPTS.items():
        if _count(letters, first, last) >= MIN_SCRIPT_SHARE * len(letters):
            return "uk" if language == "ru" and _UKRAINIAN_LETTERS & set(text) else language
    hits = Counter(_WORD_LANGUAGE[word] for word in _WORD.findall(text.lower()) if word in _WORD_LANGUAGE)
    ranked = hits.most_common(2)
    if not ranked or ranked[0][1] < MIN_HITS or (len(ranked) == 2 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]


def _count(letters: list[str], first: int, last: int) -> int:
    return sum(1 for char in letters if first <= ord(char) <= last)


def _head(path: Path) -> str:
    """The start of a note, decoded as indexing decodes it; "" for binary files and what cannot be read."""
    try:
        with open(path, "rb") as file:
            return decode_note(path.name, file.read(SAMPLE_BYTES))[0]
    except (OSError, NoteUnreadable):
        return ""
