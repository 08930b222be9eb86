"""Which languages a vault is written in, from a sample of its notes: enough to know when English-only models fail it.

A note's language is told by `ingest.language_id` (py3langid, over a hundred languages, offline), from its body
without code, URLs and link targets. Notes with too little text to tell (a title and a link) are left out of the
shares.

Up to SAMPLE_NOTES notes spread evenly over the vault's sorted paths, SAMPLE_BYTES of each: the same vault gives the
same answer every time. A language is one of the vault's main languages from MAIN_SHARE of the notes told.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from vaultrag.ingest.language_id import MIN_PROBABILITY, identify
from vaultrag.ingest.properties import split_frontmatter
from vaultrag.ingest.decoding import NoteUnreadable, decode_note
from vaultrag.ingest.kinds import is_attachment
from vaultrag.ingest.vault import scan_vault

SAMPLE_NOTES = 200
SAMPLE_BYTES = 2048
MAIN_SHARE = 0.15
MIN_LETTERS = 6  # a note with fewer letters (a title, a link) is not told
_NOISE = re.compile(r"```.*?(?:```|\Z)|`[^`\n]*`|https?://\S+|\[\[[^\]|]*\|?|<[^>\n]+>", re.S)  # code, URLs, link targets


@dataclass(frozen=True)
class VaultLanguages:
    main: frozenset[str]  # ISO 639-1 codes of the languages with at least MAIN_SHARE of the notes told
    shares: dict[str, float]  # every language found, by share of the notes told
    notes_sampled: int
    notes_told: int
    notes_total: int = 0  # notes in the vault (what a first index embeds)

    def describe(self) -> str:
        """E.g. "es 55 %, en 45 % of 30 notes sampled"."""
        if not self.notes_told:
            return f"no language told from {self.notes_sampled} notes sampled"
        found = ", ".join(f"{language} {share:.0%}".replace("%", " %") for language, share in self.shares.items())
        return f"{found} of {self.notes_sampled} notes sampled"


def detect_languages(vault: Path, include=("**/*.md",), exclude=(), obsidian_ignore: bool = True) -> VaultLanguages:
    """The vault's languages, from up to SAMPLE_NOTES of the notes that `include` and `exclude` select."""
    files = [f for f in scan_vault(vault, include, exclude, obsidian_ignore).files if not is_attachment(f.path)]
    step = max(len(files) / SAMPLE_NOTES, 1.0)
    sample = [files[int(i * step)].path for i in range(min(len(files), SAMPLE_NOTES))]
    told = Counter(language for path in sample if (language := note_language(_head(vault / path))))
    total = sum(told.values())
    shares = {language: told[language] / total for language in sorted(told, key=lambda code: (-told[code], code))}
    return VaultLanguages(frozenset(language for language, share in shares.items() if share >= MAIN_SHARE), shares,
                          len(sample), total, len(files))


def note_language(text: str) -> str | None:
    """The language of one note's text, or None when it holds too little text to tell."""
    text = _NOISE.sub(" ", split_frontmatter(text).body)
    if sum(1 for char in text if char.isalpha()) < MIN_LETTERS:
        return None
    language, probability = identify(text)
    return language if probability >= MIN_PROBABILITY else None


def _head(path: Path) -> str:
    """The start of a note, decoded as indexing decodes it; "" for binary files and what cannot be read."""
    try:
        with open(path, "rb") as file:
            return decode_note(path.name, file.read(SAMPLE_BYTES))[0]
    except (OSError, NoteUnreadable):
        return ""
