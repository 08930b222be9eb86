"""The multilingual fixture (tests/fixtures/multilingual/): notes and questions in eight languages, one TOML each."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

FOLDER = Path(__file__).resolve().parent / "fixtures" / "multilingual"
LANGUAGES = ("de", "en", "es", "fr", "ja", "ko", "ru", "zh")


@dataclass(frozen=True)
class Question:
    language: str
    text: str
    path: str  # the note that answers it
    hard: bool = False  # worded with almost none of the note's words (a help page asked about in other words)


@dataclass(frozen=True)
class Fixture:
    notes: dict[str, str]  # path -> text
    questions: list[Question]
    unrelated: dict[str, list[str]]  # language -> questions no note answers


def load(languages=LANGUAGES) -> Fixture:
    notes, questions, unrelated = {}, [], {}
    for language in languages:
        data = tomllib.loads((FOLDER / f"{language}.toml").read_text(encoding="utf-8"))
        assert data["language"] == language
        unrelated[language] = data["unrelated"]
        for note in data["note"]:
            notes[note["path"]] = note["text"] + "\n"
            questions += [Question(language, text, note["path"]) for text in note.get("questions", [])]
            questions += [Question(language, text, note["path"], hard=True) for text in note.get("hard", [])]
    return Fixture(notes, questions, unrelated)


def write(notes: dict[str, str], vault: Path) -> Path:
    for path, text in notes.items():
        (vault / path).parent.mkdir(parents=True, exist_ok=True)
        (vault / path).write_text(text, encoding="utf-8")
    return vault
