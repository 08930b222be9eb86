#!/usr/bin/env python3
"""Generate a deterministic, realistic synthetic Obsidian vault for benchmarks.

Why this exists: ``bench/`` measures how fast vaultrag indexes (and re-indexes) a personal vault of about
5,000 notes. Real third-party vaults are never copied into this repository (they are private and their
licences are unknown), so the benchmark vault is generated on demand from a seed instead. The same
arguments always give the same files, byte for byte (and the same modification times), so numbers from
different machines and commits are comparable.

Usage::

    python bench/generate_vault.py OUT_DIR --notes 5000 --seed 1 [--overwrite]

or, with the repository root on ``sys.path``::

    from bench.generate_vault import generate_vault
    generate_vault(Path("/tmp/vault"), notes=5000, seed=1)

What it makes (numbers for ``--notes 5000``):

* A PARA-style folder tree up to four levels deep, about 110 folders: ``Inbox/``, ``Projects/Alpha/Meetings/``,
  ``Areas/Health/Nutrition/``, ``Reference/Books/Fiction/``, ``Journal/2023/04/``, ``Meetings/2022/``,
  ``People/``, ``Zettelkasten/``, ``Archive/2021/``, ``Templates/``, ``Categories/``, ``Maps/`` and
  ``Attachments/`` (two tiny PNGs, plus a ``.canvas`` file in a project folder: non-Markdown files an indexer
  must skip).
* ``.obsidian/`` with ``app.json`` (its ``userIgnoreFilters`` names only ``Attachments/``, so every note
  stays indexable) and a few other settings files, and ``.trash/`` with three deleted notes; neither may be
  indexed. Every trashed note contains the word ``zqxtrashsentinel`` so a test can check that.
* Notes of very different sizes: about 18% daily notes (``Journal/2023/04/2023-04-17.md``), most of them
  one to three lines; most other notes 200-1,500 words (log-normal); about 2% long notes of 5,000-15,000
  words. Around 550-600 words per note on average (markup included): for 5,000 notes ~2.9 million words,
  ~17 MB, and about 23,000 chunks with vaultrag's chunker at 254 tokens.
* Obsidian syntax: YAML frontmatter on most notes (tags as a list or a string, aliases, created dates,
  ``categories: ["[[Books]]"]``-style links, ratings, people), H1-H3 headings in a nested structure, prose
  made of varied sentences over a vocabulary of ~2,300 English words across fourteen topics (cooking,
  software, health, travel, finance, gardening, music, fitness, books, science, home, photography, history,
  career), bullet and numbered lists, task lists, inline ``#tags`` and ``#nested/tags``, ``[[wikilinks]]`` to
  other notes (some with ``|alias``, ``#heading`` or a folder path, a few dangling), embeds, fenced code
  blocks, callouts, blockquotes, ``%% comments %%``, tables, highlights, footnotes and block ids.
* Other languages: about 3% of notes in Spanish, 2% German, 1% Chinese and 1% Japanese; a few English notes
  have accented or emoji file names.

The summary printed at the end gives notes, folders, size, words (CJK characters counted one each) and a
rough chunk estimate (~1.3 tokens a word, 250-token chunks). Only the standard library is used.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

# Marker written into every generated vault; --overwrite only ever deletes a directory that has it.
MARKER = ".obsidian/vaultrag-bench.json"
TRASH_SENTINEL = "zqxtrashsentinel"
_SLOT = re.compile(r"\{(\w+)(?::(\w+))?\}")  # a slot of a sentence template: {np}, {pick:adverbs}


# The word lists, headings, folders and sentence templates live in generate_vault_words.json beside this file.
_DATA = json.loads(Path(__file__).with_name("generate_vault_words.json").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Topic:
    nouns: tuple[str, ...]
    verbs: tuple[str, ...]
    adjs: tuple[str, ...]
    tags: tuple[str, ...]


@dataclass(frozen=True)
class FolderSpec:
    path: str
    kind: str
    topics: tuple[str, ...]
    weight: float


_EN = {name: tuple(words) for name, words in _DATA["english"].items()}
GENERAL_NOUNS, GENERAL_VERBS, ADJECTIVES = _EN["general_nouns"], _EN["general_verbs"], _EN["adjectives"]
PREPOSITIONS, GENERAL_TAGS = _EN["prepositions"], _EN["general_tags"]
FIRST_NAMES, LAST_NAMES = _EN["first_names"], _EN["last_names"]
SENTENCES, SHORT_SENTENCES = tuple(_DATA["sentences"]), tuple(_DATA["short_sentences"])
TOPICS: dict[str, Topic] = {name: Topic(**{key: tuple(words) for key, words in lists.items()})
                            for name, lists in _DATA["topics"].items()}
TOPIC_NAMES = tuple(TOPICS)

INGREDIENTS, PREP_NOTES, UNITS, METHOD_TAILS = (tuple(_DATA["cooking"][key]) for key in
                                                ("ingredients", "prep_notes", "units", "method_tails"))
EMOJI, MOODS, SPECIAL_TITLES, PROJECT_NAMES, CATEGORIES = (tuple(_DATA["names"][key]) for key in (
    "emoji", "moods", "special_titles", "project_names", "categories"))  # SPECIAL_TITLES: once each, non-ASCII names
KIND_CATEGORY: dict[str, str] = _DATA["names"]["kind_category"]

_ES = {name: tuple(words) for name, words in _DATA["spanish"].items()}
ES_NOUNS, ES_VERBS, ES_INF, ES_ADJS = _ES["nouns"], _ES["verbs"], _ES["infinitives"], _ES["adjectives"]
ES_TIME, ES_CONN, ES_PREPS, ES_HEADINGS = _ES["time"], _ES["connectors"], _ES["prepositions"], _ES["headings"]
_DE = _DATA["german"]
DE_NOUNS = tuple((gender, word) for gender, words in _DE["nouns"].items() for word in words)
DE_ART = {case: {gender: tuple(forms) for gender, forms in genders.items()}  # case -> gender -> (der, ein, mein)
          for case, genders in _DE["articles"].items()}
DE_VERBS = tuple(tuple(forms) for forms in _DE["verbs"])  # (3rd person, 1st person, infinitive)
DE_ADJS, DE_TIME, DE_CONN, DE_HEADINGS = (tuple(_DE[key]) for key in ("adjectives", "time", "connectors", "headings"))
_ZH = {name: tuple(words) for name, words in _DATA["chinese"].items()}
ZH_SUBJ, ZH_TIME, ZH_ADV, ZH_VERB = _ZH["subjects"], _ZH["time"], _ZH["adverbs"], _ZH["verbs"]
ZH_OBJ, ZH_CONN, ZH_HEADINGS = _ZH["objects"], _ZH["connectors"], _ZH["headings"]
_JA = {name: tuple(words) for name, words in _DATA["japanese"].items()}
JA_SUBJ, JA_TIME, JA_OBJ, JA_VERB = _JA["subjects"], _JA["time"], _JA["objects"], _JA["verbs"]
JA_CONN, JA_HEADINGS = _JA["connectors"], _JA["headings"]
LANG_FOLDERS: dict[str, str] = _DATA["languages"]["folders"]
LANG_TAGS = {lang: tuple(tags) for lang, tags in _DATA["languages"]["tags"].items()}

FOLDERS = tuple(FolderSpec(path, kind, TOPIC_NAMES if topics == "all" else tuple(topics), weight)
                for path, kind, topics, weight in _DATA["folders"])
FOLDER_WEIGHTS = tuple(f.weight for f in FOLDERS)
# Headings a kind of note starts with (a special key after "|" picks a dedicated block generator).
KIND_HEADINGS = {kind: tuple(headings) for kind, headings in _DATA["headings"]["by_kind"].items()}
GENERIC_HEADINGS = tuple(_DATA["headings"]["generic"])
MATH, CODE_LANGS = tuple(_DATA["math"]), tuple(_DATA["code_langs"])

# A 1x1 transparent PNG, used for attachments.
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)

# --------------------------------------------------------------------------------------------------
# Word helpers
# --------------------------------------------------------------------------------------------------

_A_EXCEPTIONS = ("uni", "use", "usu", "uti", "euro", "one", "once")
_AN_EXCEPTIONS = ("hour", "honest", "heir", "ISO")


def _article(word: str) -> str:
    low = word.lower()
    if word.startswith(_AN_EXCEPTIONS) or low.startswith(_AN_EXCEPTIONS):
        return "an"
    if low.startswith(_A_EXCEPTIONS):
        return "a"
    return "an" if low[:1] in "aeiou" else "a"


def _an(noun: str) -> str:
    return f"{_article(noun)} {noun}"


def _third_person(verb: str) -> str:
    head, sep, rest = verb.partition(" ")
    if head.endswith(("s", "x", "z", "ch", "sh", "o")):
        head += "es"
    elif head.endswith("y") and head[-2:-1] not in ("a", "e", "i", "o", "u"):
        head = head[:-1] + "ies"
    else:
        head += "s"
    return head + sep + rest


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:] if s else s


def _title_case(words: str) -> str:
    small = {"a", "an", "the", "of", "and", "or", "in", "on", "for", "to", "with", "at", "by"}
    parts = words.split(" ")
    return " ".join(p if (i and p in small) else p[:1].upper() + p[1:] for i, p in enumerate(parts))


_POOLS: dict[str, tuple] = {}


def _pools(topic: str) -> tuple:
    """Weighted word lists for a topic: roughly 55% topic words, 45% general words."""
    pools = _POOLS.get(topic)
    if pools is None:
        t = TOPICS[topic]

        def mix(specific: tuple[str, ...], general: tuple[str, ...], share: float) -> tuple[str, ...]:
            k = max(1, round(share * len(general) / ((1 - share) * len(specific))))
            return specific * k + general

        nouns = mix(t.nouns, GENERAL_NOUNS, 0.55)
        verbs = mix(t.verbs, GENERAL_VERBS, 0.4)
        adjs = mix(t.adjs, ADJECTIVES, 0.35)
        pools = (nouns, verbs, tuple(_third_person(v) for v in verbs), adjs)
        _POOLS[topic] = pools
    return pools


# --------------------------------------------------------------------------------------------------
# The plan: every note's title, folder, kind, size and headings, decided before any text is written
# --------------------------------------------------------------------------------------------------


@dataclass
class Note:
    idx: int
    title: str
    folder: str
    kind: str
    topic: str
    lang: str = "en"
    size: str = "medium"  # short | medium | long | special
    words: int = 0
    created: date = date(2022, 1, 1)
    sections: list = field(default_factory=list)  # (level, text, budget, special)
    headings: tuple = ()
    h1: bool = False

    @property
    def relpath(self) -> str:
        return f"{self.folder}/{self.title}.md" if self.folder else f"{self.title}.md"


class Vault:
    def __init__(self, notes: list[Note], hubs: list[Note], people: list[str], start: date, end: date):
        self.notes = notes
        self.hubs = hubs or notes
        self.people = people or [f"{FIRST_NAMES[0]} {LAST_NAMES[0]}"]
        self.start = start
        self.end = end
        self.by_topic: dict[str, list[Note]] = {}
        for n in notes:
            if n.size != "special":
                self.by_topic.setdefault(n.topic, []).append(n)

    def link(self, rng: random.Random, src: Note, alias_words: tuple[str, ...] = ()) -> str:
        r = rng.random()
        notes = self.notes
        if r < 0.03 or not notes:
            adj = ADJECTIVES[int(rng.random() * len(ADJECTIVES))]
            noun = GENERAL_NOUNS[int(rng.random() * len(GENERAL_NOUNS))]
            return f"[[{_title_case(adj + ' ' + noun)}]]"  # a note that does not exist (yet)
        if r < 0.28:
            target = self.hubs[int(rng.random() * len(self.hubs))]
        else:
            target = notes[int(rng.random() * len(notes))]
        if target is src:
            target = notes[(src.idx + 1) % len(notes)]
        name = target.title
        if rng.random() < 0.03 and target.folder:
            name = f"{target.folder}/{target.title}"
        form = rng.random()
        if form < 0.62:
            return f"[[{name}]]"
        if form < 0.84 or not target.headings:
            return f"[[{name}|{self._alias(rng, target, alias_words)}]]"
        heading = target.headings[int(rng.random() * len(target.headings))]
        if form < 0.95:
            return f"[[{name}#{heading}]]"
        return f"[[{name}#{heading}|{self._alias(rng, target, alias_words)}]]"

    @staticmethod
    def _alias(rng: random.Random, target: Note, alias_words: tuple[str, ...]) -> str:
        if alias_words and rng.random() < 0.6:
            return alias_words[int(rng.random() * len(alias_words))]
        return target.title.lower() if target.lang == "en" else target.title

    def person_link(self, rng: random.Random) -> str:
        return f"[[{self.people[int(rng.random() * len(self.people))]}]]"


def _lognormal(rng: random.Random, median: float, sigma: float, lo: int, hi: int) -> int:
    return int(min(hi, max(lo, median * math.exp(rng.gauss(0.0, sigma)))))


class _Titles:
    def __init__(self) -> None:
        self.used: dict[str, None] = {}

    def claim(self, make, rng: random.Random) -> str:
        title = make()
        for _ in range(6):
            if title.lower() not in self.used:
                break
            title = make()
        base, k = title, 2
        while title.lower() in self.used:
            title = f"{base} {k}"
            k += 1
        self.used[title.lower()] = None
        return title


def _make_title(rng: random.Random, kind: str, topic: str, folder: str, day: date) -> str:
    t = TOPICS[topic]
    pick = rng.choice
    noun = lambda: pick(t.nouns) if rng.random() < 0.7 else pick(GENERAL_NOUNS)  # noqa: E731
    adj = lambda: pick(t.adjs) if rng.random() < 0.5 else pick(ADJECTIVES)  # noqa: E731
    if kind in ("person", "character"):
        return f"{pick(FIRST_NAMES)} {pick(LAST_NAMES)}"
    if kind == "meeting":
        project = folder.split("/")[1] if folder.startswith("Projects/") else pick(PROJECT_NAMES)
        what = pick(("Sync", "Planning", "Review", "Retro", "Kickoff", "1-1", "Design Review", "Demo"))
        return f"{day.isoformat()} {project} {what}"
    if kind == "book":
        return _title_case(pick((
            f"the {adj()} {noun()}", f"{noun()} of the {noun()}", f"{_an(noun())} in {pick(t.nouns)}",
            f"{noun()} and {noun()}", f"the {noun()}", f"{adj()} {noun()}",
        )))
    if kind == "recipe":
        c = TOPICS["cooking"]
        return _title_case(pick((
            f"{pick(c.adjs)} {pick(c.nouns)} {pick(('soup', 'stew', 'salad', 'bake', 'curry', 'pie', 'bowl'))}",
            f"{pick(c.nouns)} with {pick(c.nouns)}", f"{pick(c.adjs)} {pick(c.nouns)}",
            f"grandma's {pick(c.nouns)}", f"{pick(c.nouns)} and {pick(c.nouns)} {pick(('tart', 'risotto', 'pasta'))}",
        )))
    if kind == "zettel":
        stamp = f"{day:%Y%m%d}{rng.randrange(6, 23):02d}{rng.randrange(60):02d}"
        return f"{stamp} {_cap(noun())} {pick(('is', 'needs', 'beats', 'shapes', 'hides'))} {adj()} {noun()}"
    if kind == "log":
        return f"{day.isoformat()} {_title_case(pick(('log', 'session', 'notes', 'entry')))} {_cap(noun())}"
    if kind == "episode":
        return f"Episode {rng.randrange(1, 300)} - {_title_case(adj() + ' ' + noun())}"
    if kind == "software":
        return _title_case(pick((
            f"{noun()} {pick(('cheatsheet', 'notes', 'setup', 'tips', 'gotchas', 'basics'))}",
            f"how to {pick(t.verbs)} {_an(noun())}", f"{adj()} {noun()} pattern", f"debugging the {noun()}",
        )))
    if kind == "trip":
        return _title_case(pick((f"{adj()} {noun()} day", f"{noun()} notes", f"day {rng.randrange(1, 15)} {noun()}",
                                 f"{noun()} and {noun()}")))
    return _title_case(pick((
        f"{adj()} {noun()}", f"{noun()} {noun()}", f"{adj()} {noun()} ideas", f"{noun()} checklist",
        f"how to {pick(t.verbs)} the {noun()}", f"notes on {noun()}", f"why {noun()} matters",
        f"{noun()} vs {noun()}", f"{adj()} {noun()} and {noun()}", f"on {adj()} {noun()}",
    )))


def _make_foreign_title(rng: random.Random, lang: str) -> str:
    pick = rng.choice
    if lang == "es":
        a, b = pick(ES_NOUNS), pick(ES_NOUNS)
        bare = lambda n: n.split(" ", 1)[1]  # noqa: E731
        return pick((f"{_cap(bare(a))} y {bare(b)}", f"Notas sobre {a}", f"Ideas para {a}",
                     f"Receta de {bare(a)}", f"{_cap(a)} {pick(ES_ADJS)}"))
    if lang == "de":
        (g1, a), (g2, b) = pick(DE_NOUNS), pick(DE_NOUNS)
        zu = "zur" if g1 == "f" else "zum"
        return pick((f"{a} und {b}", f"Notizen {zu} {a}", f"Gedanken über {DE_ART['acc'][g1][0]} {a}",
                     f"Mein {b} Plan" if g2 != "f" else f"Meine {b}", f"{a}-Liste"))
    if lang == "zh":
        return pick((f"{pick(ZH_OBJ)}的笔记", f"关于{pick(ZH_OBJ)}", f"{pick(ZH_TIME)}的{pick(ZH_OBJ)}"))
    return pick((f"{pick(JA_OBJ)}について", f"{pick(JA_OBJ)}のメモ", f"{pick(JA_TIME)}の{pick(JA_OBJ)}"))


def _heading_text(rng: random.Random, topic: str, lang: str) -> str:
    if lang == "es":
        return rng.choice(ES_HEADINGS)
    if lang == "de":
        return rng.choice(DE_HEADINGS)
    if lang == "zh":
        return rng.choice(ZH_HEADINGS)
    if lang == "ja":
        return rng.choice(JA_HEADINGS)
    t = TOPICS[topic]
    r = rng.random()
    if r < 0.4:
        return rng.choice(GENERIC_HEADINGS)
    if r < 0.6:
        return _cap(f"{rng.choice(t.adjs)} {rng.choice(t.nouns)}")
    if r < 0.75:
        return _cap(f"{rng.choice(t.nouns)} and {rng.choice(GENERAL_NOUNS)}")
    if r < 0.88:
        return f"How to {rng.choice(t.verbs)} the {rng.choice(t.nouns)}"
    return f"Why the {rng.choice(t.nouns)} matters"


def _plan_sections(rng: random.Random, note: Note) -> None:
    w = note.words
    if note.size == "short" or w < 120:
        return
    per = rng.uniform(170, 380) if note.size != "long" else rng.uniform(220, 450)
    n = max(1, round(w / per))
    heads: list[tuple[str, str]] = []
    if note.lang == "en":
        for h in KIND_HEADINGS.get(note.kind, ()):
            text, _, special = h.partition("|")
            heads.append((text, special))
        heads = heads[: max(2, n)]
    while len(heads) < n:
        heads.append((_heading_text(rng, note.topic, note.lang), ""))
    if note.lang == "en" and note.kind in ("generic", "zettel", "inbox", "book", "article") and rng.random() < 0.25:
        heads.append(("Related", "related"))
    # Levels: mostly H2 with H3 subsections; long notes get H1 "parts" as well.
    parts = note.size == "long" and rng.random() < 0.6
    sections = []
    level_prev = 2
    weights = [rng.uniform(0.5, 1.5) for _ in heads]
    total = sum(weights)
    for i, ((text, special), wt) in enumerate(zip(heads, weights)):
        if parts and i % 7 == 0:
            sections.append((1, f"Part {i // 7 + 1}: {text}", int(w * wt / total), special))
            level_prev = 1
            continue
        if i and not special and level_prev >= 2 and rng.random() < 0.35:
            level = 3
        else:
            level = 2
        level_prev = level
        sections.append((level, text, int(w * wt / total), special))
    note.sections = sections
    note.headings = tuple(dict.fromkeys(s[1] for s in sections))


def _size_for(rng: random.Random, kind: str) -> tuple[str, int]:
    r = rng.random()
    if kind == "daily":
        if r < 0.82:
            return "short", 0
        return "medium", _lognormal(rng, 300, 0.5, 120, 900)
    if kind == "inbox":
        if r < 0.45:
            return "short", 0
        return "medium", _lognormal(rng, 350, 0.6, 120, 1500)
    if kind == "person":
        if r < 0.35:
            return "short", 0
        return "medium", _lognormal(rng, 220, 0.5, 120, 700)
    if kind == "zettel":
        return "medium", _lognormal(rng, 330, 0.5, 150, 1000)
    if r < 0.025:
        return "long", _lognormal(rng, 7000, 0.35, 5000, 13000)
    return "medium", _lognormal(rng, 400, 0.55, 200, 1500)


def _plan(notes: int, seed: int) -> Vault:
    rng = random.Random(f"vaultrag-bench/plan/{seed}")
    titles = _Titles()
    out: list[Note] = []

    n_daily = int(notes * 0.18 + 0.5)
    specials: list[tuple[str, str, str, str]] = [("Home", "", "home", "software")]
    specials += [(c, "Categories", "category", "literature") for c in CATEGORIES]
    specials += [(f"{_cap(t)} MOC", "Maps", "moc", t) for t in TOPIC_NAMES]
    specials += [(t, "Templates", "template", "career") for t in ("Daily Note", "Meeting", "Book")]
    specials = specials[: notes // 25]
    n_regular = max(0, notes - n_daily - len(specials))
    if n_daily + len(specials) > notes:
        n_daily = max(0, notes - len(specials))

    # Daily notes: consecutive days from a seed-chosen start, with some days skipped.
    start = date(2021, 1, 4) + timedelta(days=rng.randrange(0, 200))
    day = start
    for _ in range(n_daily):
        while rng.random() < 0.1:
            day += timedelta(days=1)
        note = Note(len(out), day.isoformat(), f"Journal/{day:%Y}/{day:%m}", "daily", rng.choice(TOPIC_NAMES),
                    created=day)
        titles.used[note.title.lower()] = None
        out.append(note)
        day += timedelta(days=1)
    end = max(day, start + timedelta(days=700))
    span = (end - start).days

    for title, folder, kind, topic in specials:
        titles.used[title.lower()] = None
        out.append(Note(len(out), title, folder, kind, topic, size="special", created=start))

    special_titles = list(SPECIAL_TITLES)
    for i in range(n_regular):
        spec = rng.choices(FOLDERS, cum_weights=None, weights=FOLDER_WEIGHTS)[0]
        topic = rng.choice(spec.topics)
        created = start + timedelta(days=rng.randrange(span))
        kind = spec.kind
        folder = spec.path.replace("{year}", str(created.year))
        year = next((int(part) for part in folder.split("/") if len(part) == 4 and part.isdigit()), None)
        if year and year != created.year:  # Archive/2021 holds notes from 2021
            created = date(year, created.month, min(created.day, 28))
        if special_titles and rng.random() < 0.004:
            title = special_titles.pop(0)
            titles.used[title.lower()] = None
        else:
            title = titles.claim(lambda: _make_title(rng, kind, topic, folder, created), rng)
            if rng.random() < 0.004 and kind not in ("meeting", "log", "zettel"):
                new = f"{title} {rng.choice(EMOJI)}"
                if new.lower() not in titles.used:
                    titles.used[new.lower()] = None
                    title = new
        out.append(Note(len(out), title, folder, kind, topic, created=created))

    regular = [n for n in out if n.size != "special" and n.kind != "daily"]
    # Other languages: ~3% Spanish, 2% German, 1% Chinese, 1% Japanese (of all notes).
    quota = [("es", round(notes * 0.03)), ("de", round(notes * 0.02)), ("zh", round(notes * 0.01)),
             ("ja", round(notes * 0.01))]
    pool = [n for n in regular if n.kind not in ("person", "character", "meeting")]
    chosen = rng.sample(pool, min(len(pool), sum(q for _, q in quota)))
    pos = 0
    for lang, q in quota:
        for note in chosen[pos:pos + q]:
            titles.used.pop(note.title.lower(), None)
            note.lang = lang
            note.kind = "foreign"
            if rng.random() < 0.5:
                note.folder = LANG_FOLDERS[lang]
            note.title = titles.claim(lambda: _make_foreign_title(rng, lang), rng)
        pos += q

    for note in out:
        if note.size == "special":
            continue
        note.size, note.words = _size_for(rng, note.kind)
        if note.kind == "foreign":
            note.size, note.words = "medium", _lognormal(rng, 400, 0.5, 150, 1200)
        note.h1 = note.size != "short" and rng.random() < 0.4
        _plan_sections(rng, note)

    people = [n.title for n in out if n.kind == "person"]
    hubs = [n for n in out if n.kind in ("moc", "category", "home", "project") or n.kind == "person"]
    hubs += rng.sample(regular, min(len(regular), max(1, len(regular) // 60))) if regular else []
    return Vault(out, hubs, people, start, end)


# --------------------------------------------------------------------------------------------------
# English prose
# --------------------------------------------------------------------------------------------------


class Prose:
    """Sentences and blocks for one note, drawn from its topic's word pools and its own RNG."""

    def __init__(self, rng: random.Random, note: Note, vault: Vault):
        self.rng = rng
        self.r = rng.random
        self.note = note
        self.vault = vault
        self.nouns, self.verbs, self.verbs3, self.adjs = _pools(note.topic)
        self.topic = TOPICS[note.topic]
        self.link_p = 0.018
        self.tags = self.topic.tags

    def pick(self, seq):
        return seq[int(self.r() * len(seq))]

    # -- phrases ------------------------------------------------------------------------------
    def noun(self) -> str:
        return self.nouns[int(self.r() * len(self.nouns))]

    def adj(self) -> str:
        return self.adjs[int(self.r() * len(self.adjs))]

    def np(self) -> str:
        r = self.r()
        if r < self.link_p:
            return self.vault.link(self.rng, self.note, (self.noun(), f"{self.adj()} {self.noun()}"))
        noun = self.noun()
        if self.r() < 0.4:
            noun = f"{self.adj()} {noun}"
        d = self.r()
        if d < 0.45:
            det = "the"
        elif d < 0.62:
            det = _article(noun)
        elif d < 0.72:
            det = "my"
        elif d < 0.8:
            det = "our"
        elif d < 0.87:
            det = "this"
        elif d < 0.92:
            det = "that"
        elif d < 0.96:
            det = "every"
        else:
            det = "another"
        phrase = f"{det} {noun}"
        if r > 0.985:
            return f"**{phrase}**"
        if r > 0.975:
            return f"*{phrase}*"
        if r > 0.97:
            return f"=={phrase}=="
        if r > 0.965 and self.note.topic == "software":
            return f"`{noun.replace(' ', '_')}`"
        return phrase

    def pp(self) -> str:
        return f"{self.pick(PREPOSITIONS)} {self.np()}"

    def verb(self) -> str:
        return self.verbs[int(self.r() * len(self.verbs))]

    def verb3(self) -> str:
        return self.verbs3[int(self.r() * len(self.verbs3))]

    # -- sentences ----------------------------------------------------------------------------
    def sentence(self) -> str:
        return _cap(self.fill(SENTENCES[int(self.r() * len(SENTENCES))]))

    def short_sentence(self) -> str:
        return _cap(self.fill(SHORT_SENTENCES[int(self.r() * len(SHORT_SENTENCES))]))

    def fill(self, template: str) -> str:
        """`template` with each slot filled left to right: {np}, {verb}... call that method, {pick:NAME} picks
        from the English list NAME (the order of the calls is the order of the draws from the RNG)."""
        return _SLOT.sub(lambda slot: self.pick(_EN[slot[2]]) if slot[1] == "pick" else getattr(self, slot[1])(),
                         template)

    def tag(self) -> str:
        if self.r() < 0.7:
            return "#" + self.pick(self.tags)
        return "#" + self.pick(GENERAL_TAGS)

    # -- blocks -------------------------------------------------------------------------------
    def paragraph(self) -> str:
        r = self.r
        n = 2 + int(r() * 6)
        text = " ".join([self.sentence() for _ in range(n)])
        x = r()
        if x < 0.12:
            text += " " + self.tag()
        elif x < 0.15:
            text += f" %% {self.short_sentence()} %%"
        elif x < 0.17:
            text += f"[^{1 + int(r() * 3)}]"
        elif x < 0.19:
            text += f" ^{''.join(self.pick('abcdefghijklmnopqrstuvwxyz0123456789') for _ in range(6))}"
        elif x < 0.21:
            text += f" See [{self.noun()}](https://example.com/{self.noun().replace(' ', '-')})."
        return text

    def bullets(self, nested: bool = True) -> str:
        lines = []
        for _ in range(3 + int(self.r() * 5)):
            x = self.r()
            if x < 0.5:
                item = self.short_sentence()
            elif x < 0.8:
                item = self.sentence()
            elif x < 0.9:
                item = f"{self.vault.link(self.rng, self.note)} - {self.short_sentence()}"
            else:
                item = f"{_cap(self.adj())} {self.noun()} {self.tag()}"
            lines.append(f"- {item}")
            if nested and self.r() < 0.15:
                for _ in range(1 + int(self.r() * 3)):
                    lines.append(f"\t- {self.short_sentence()}")
        return "\n".join(lines)

    def numbered(self) -> str:
        return "\n".join(f"{i}. {self.sentence()}" for i in range(1, 3 + int(self.r() * 6)))

    def tasks(self) -> str:
        lines = []
        for _ in range(2 + int(self.r() * 5)):
            box = "x" if self.r() < 0.35 else " "
            item = f"- [{box}] {_cap(self.verb())} {self.np()}"
            x = self.r()
            if x < 0.2:
                due = self.vault.start + timedelta(days=int(self.r() * (self.vault.end - self.vault.start).days))
                item += f" 📅 {due.isoformat()}"
            elif x < 0.35:
                item += f" with {self.vault.person_link(self.rng)}"
            elif x < 0.45:
                item += " " + self.tag()
            lines.append(item)
        return "\n".join(lines)

    def callout(self) -> str:
        kind = self.pick(("note", "tip", "warning", "info", "question", "quote", "todo", "example",
                          "abstract", "important"))
        fold = self.pick(("", "", "", "-", "+"))
        title = f" {_cap(self.adj())} {self.noun()}" if self.r() < 0.6 else ""
        body = [f"> {self.sentence()} {self.sentence()}"]
        if self.r() < 0.3:
            body += [">", f"> - {self.short_sentence()}", f"> - {self.short_sentence()}"]
        return f"> [!{kind}]{fold}{title}\n" + "\n".join(body)

    def quote(self) -> str:
        who = f"{self.pick(FIRST_NAMES)} {self.pick(LAST_NAMES)}"
        return f"> {self.sentence()} {self.sentence()}\n> — {who}"

    def comment(self) -> str:
        if self.r() < 0.5:
            return f"%% {self.sentence()} %%"
        return f"%%\nTODO: {self.sentence()}\n{self.sentence()}\n%%"

    def table(self) -> str:
        topic = self.note.topic
        if topic == "finance":
            head = ("Month", "Income", "Expenses", "Saved")
            rows = [(self.pick(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")),
                     f"{1800 + int(self.r() * 4000)}", f"{900 + int(self.r() * 3000)}", f"{int(self.r() * 900)}")
                    for _ in range(3 + int(self.r() * 6))]
        elif topic == "cooking":
            head = ("Ingredient", "Amount", "Notes")
            rows = [(self.pick(TOPICS["cooking"].nouns), f"{1 + int(self.r() * 500)} g", self.short_sentence())
                    for _ in range(3 + int(self.r() * 5))]
        elif topic == "fitness":
            head = ("Date", "Workout", "Distance", "Feel")
            rows = [((self.vault.start + timedelta(days=int(self.r() * 600))).isoformat(), self.pick(self.topic.nouns),
                     f"{2 + self.r() * 20:.1f} km", self.pick(MOODS)) for _ in range(3 + int(self.r() * 6))]
        else:
            head = ("Item", "Status", "Owner", "Notes")
            rows = [(_cap(self.noun()), self.pick(("todo", "doing", "done", "blocked", "dropped")),
                     self.vault.person_link(self.rng).replace("|", "\\|"), self.short_sentence())
                    for _ in range(3 + int(self.r() * 5))]
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join(" --- " for _ in head) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)

    def code(self) -> str:
        lang = self.pick(CODE_LANGS) if self.note.topic == "software" else self.pick(("bash", "python", "yaml", "dataview"))
        ident = lambda: self.pick(self.topic.nouns).replace(" ", "_").replace("-", "_").lower()  # noqa: E731
        a, b, c = ident(), ident(), ident()
        n = 1 + int(self.r() * 100)
        if lang == "python":
            body = (f"def {self.verb().replace(' ', '_')}_{a}({b}, {c}=None):\n"
                    f'    """{self.short_sentence()}"""\n'
                    f"    result = {{}}\n"
                    f"    for item in {b}:\n"
                    f"        if item.{c} is None:\n"
                    f"            continue\n"
                    f"        result[item.{a}] = item.{c} * {n}\n"
                    f"    return result")
        elif lang == "bash":
            body = (f"# {self.short_sentence()}\n"
                    f"cd ~/projects/{a}\n"
                    f"git pull --rebase\n"
                    f"./scripts/{self.verb().replace(' ', '-')}.sh --{b.replace('_', '-')} {n}\n"
                    f"grep -rn \"{c}\" . | head -{n}")
        elif lang == "sql":
            body = (f"SELECT {a}, COUNT(*) AS n\n"
                    f"FROM {b}s\n"
                    f"WHERE {c} > {n}\n"
                    f"GROUP BY {a}\n"
                    f"ORDER BY n DESC\n"
                    f"LIMIT 20;")
        elif lang == "javascript":
            body = (f"// {self.short_sentence()}\n"
                    f"export async function load{_cap(a.replace('_', ''))}({b}) {{\n"
                    f"  const res = await fetch(`/api/{c}/${{{b}.id}}`);\n"
                    f"  if (!res.ok) throw new Error('{a} failed');\n"
                    f"  return res.json();\n"
                    f"}}")
        elif lang == "rust":
            body = (f"/// {self.short_sentence()}\n"
                    f"fn {a}(items: &[{_cap(b.replace('_', ''))}]) -> usize {{\n"
                    f"    items.iter().filter(|x| x.{c} > {n}).count()\n"
                    f"}}")
        elif lang == "yaml":
            body = (f"{a}:\n"
                    f"  enabled: true\n"
                    f"  {b}: {n}\n"
                    f"  {c}:\n"
                    f"    - {ident()}\n"
                    f"    - {ident()}")
        elif lang == "json":
            body = json.dumps({a: n, b: [ident(), ident()], c: {"enabled": self.r() < 0.5}}, indent=2)
        else:
            body = (f"TABLE created, {a}\n"
                    f"FROM #{self.pick(self.tags)}\n"
                    f"WHERE {b} != null\n"
                    f"SORT created DESC")
        return f"```{lang}\n{body}\n```"

    def misc(self) -> str:
        x = self.r()
        if x < 0.3:
            return "---"
        if x < 0.55:
            return f"![[{self.pick(('diagram.png', 'whiteboard.png', 'Pasted image 20230412093311.png'))}]]"
        if x < 0.75:
            return f"![[{self.vault.notes[int(self.r() * len(self.vault.notes))].title}]]" if self.vault.notes else "---"
        if x < 0.9:
            return "$$\n" + self.pick(MATH) + "\n$$"
        return f"Reading now: {self.vault.link(self.rng, self.note)} ({1 + int(self.r() * 300)}/{300 + int(self.r() * 200)})"

    def block(self) -> str:
        x = self.r()
        code_w = 0.09 if self.note.topic == "software" else 0.012
        if x < 0.60:
            return self.paragraph()
        x -= 0.60
        if x < 0.10:
            return self.bullets()
        x -= 0.10
        if x < 0.04:
            return self.numbered()
        x -= 0.04
        if x < 0.05:
            return self.tasks()
        x -= 0.05
        if x < 0.04:
            return self.callout()
        x -= 0.04
        if x < 0.025:
            return self.quote()
        x -= 0.025
        if x < 0.03:
            return self.table()
        x -= 0.03
        if x < 0.02:
            return self.comment()
        x -= 0.02
        if x < code_w:
            return self.code()
        return self.misc() if self.r() < 0.5 else self.paragraph()

    def special(self, key: str) -> str:
        if key == "ingredients":
            lines = []
            for _ in range(4 + int(self.r() * 9)):
                unit = self.pick(UNITS)
                if unit == "g":
                    amount = f"{25 * (1 + int(self.r() * 30))} g"
                elif unit == "ml":
                    amount = f"{50 * (1 + int(self.r() * 10))} ml"
                elif unit in ("pinch of", "handful of"):
                    amount = f"a {unit}"
                else:
                    amount = f"{1 + int(self.r() * 4)} {unit}"
                line = f"- {amount} {self.pick(INGREDIENTS)}"
                if self.r() < 0.25:
                    line += f", {self.pick(PREP_NOTES)}"
                lines.append(line)
            return "\n".join(lines)
        if key == "method":
            c = TOPICS["cooking"]
            return "\n".join(f"{i}. {_cap(self.pick(c.verbs))} the {self.pick(INGREDIENTS)} "
                             f"{self.pick(METHOD_TAILS).format(n=5 * (1 + int(self.r() * 8)))}. {self.sentence()}"
                             for i in range(1, 4 + int(self.r() * 6)))
        if key == "attendees":
            return "\n".join(f"- {self.vault.person_link(self.rng)}" for _ in range(2 + int(self.r() * 5)))
        if key == "quotes":
            return "\n\n".join(self.quote() if self.r() < 0.6 else f"- \"{self.sentence()}\" (p. {1 + int(self.r() * 400)})"
                               for _ in range(2 + int(self.r() * 3)))
        if key == "related":
            return "\n".join(f"- {self.vault.link(self.rng, self.note)}" for _ in range(2 + int(self.r() * 6)))
        if key == "log":
            d = self.note.created
            lines = []
            for _ in range(3 + int(self.r() * 6)):
                d += timedelta(days=1 + int(self.r() * 9))
                lines.append(f"- **{d.isoformat()}**: {self.sentence()}")
            return "\n".join(lines)
        if key == "tasks":
            return self.tasks()
        if key == "bullets":
            return self.bullets()
        if key == "numbered":
            return self.numbered()
        if key == "table":
            return self.table()
        if key == "code":
            return self.code()
        if key == "comment":
            return self.comment()
        return self.paragraph()


def _count(text: str) -> int:
    return len(text.split())


def _fill(p: Prose, budget: int, special: str, out: list[str]) -> None:
    used = 0
    if special:
        block = p.special(special)
        out.append(block)
        used += _count(block)
        if used >= budget or p.r() < 0.5:
            return
    first = True
    while used < budget:
        block = p.paragraph() if first else p.block()
        first = False
        out.append(block)
        used += _count(block)


# --------------------------------------------------------------------------------------------------
# Frontmatter
# --------------------------------------------------------------------------------------------------


def _yaml_str(s: str) -> str:
    if any(ch in s for ch in ":#[]{}&*!|>'\"%@`,") or s[:1] in "-? " or s.lower() in ("yes", "no", "true", "false", "null"):
        return json.dumps(s, ensure_ascii=False)
    return s


def _stamp(rng: random.Random, d: date) -> str:
    x = rng.random()
    if x < 0.6:
        return d.isoformat()
    if x < 0.85:
        return f"{d.isoformat()}T{rng.randrange(7, 23):02d}:{rng.randrange(60):02d}"
    return f"{d.isoformat()} {rng.randrange(7, 23):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}"


def _yaml_list(rng: random.Random, key: str, values: list[str]) -> list[str]:
    if rng.random() < 0.5:
        return [f"{key}: [{', '.join(_yaml_str(v) for v in values)}]"]
    return [f"{key}:"] + [f"  - {_yaml_str(v)}" for v in values]


def _frontmatter(rng: random.Random, note: Note, vault: Vault, tags: list[str]) -> str:
    lines = ["---"]
    if rng.random() < 0.1:
        lines.append(f"title: {_yaml_str(note.title)}")
    if rng.random() < 0.9:
        lines.append(f"created: {_stamp(rng, note.created)}")
    if rng.random() < 0.3:
        lines.append(f"updated: {_stamp(rng, note.created + timedelta(days=rng.randrange(0, 200)))}")
    if tags:
        style = rng.random()
        if style < 0.45:
            lines += _yaml_list(rng, "tags", tags)
        elif style < 0.65:
            lines.append(f"tags: {' '.join(tags)}")
        elif style < 0.8:
            lines.append(f"tags: {', '.join(tags)}")
        elif style < 0.9:
            lines.append(f"tags: {tags[0]}")
        else:
            lines.append(f"tags: [{', '.join(json.dumps('#' + t, ensure_ascii=False) for t in tags)}]")
    if rng.random() < 0.25 and note.lang == "en":
        t = TOPICS[note.topic]
        aliases = [_cap(f"{rng.choice(t.adjs)} {rng.choice(t.nouns)}") for _ in range(1 + int(rng.random() * 2))]
        lines += _yaml_list(rng, "aliases", aliases)
    category = KIND_CATEGORY.get(note.kind)
    if category and rng.random() < 0.85:
        lines += _yaml_list(rng, "categories", [f"[[{category}]]"])
    kind = note.kind
    if kind == "book":
        author = vault.person_link(rng) if rng.random() < 0.3 else f"[[{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}]]"
        lines.append(f"author: {json.dumps(author, ensure_ascii=False)}")
        lines.append(f"year: {rng.randrange(1850, 2025)}")
        lines.append(f"rating: {rng.randrange(1, 6)}")
        lines.append(f"status: {rng.choice(('to-read', 'reading', 'finished', 'abandoned'))}")
    elif kind == "recipe":
        lines.append(f"servings: {rng.randrange(1, 9)}")
        lines.append(f"prep_time: {rng.choice((10, 15, 20, 30, 45, 60, 90))} min")
        lines.append(f"cuisine: {rng.choice(('Italian', 'Mexican', 'Indian', 'Japanese', 'Portuguese', 'Thai', 'French', 'home'))}")
        if rng.random() < 0.5:
            lines.append(f"source: https://example.com/recipes/{rng.randrange(10000, 99999)}")
    elif kind == "meeting":
        lines += _yaml_list(rng, "attendees", [vault.person_link(rng) for _ in range(rng.randrange(1, 5))])
        project = next((p for p in PROJECT_NAMES if f" {p} " in note.title), rng.choice(PROJECT_NAMES))
        lines.append(f"project: {json.dumps('[[' + project + ']]')}")
    elif kind == "project":
        lines.append(f"status: {rng.choice(('active', 'paused', 'done', 'someday'))}")
        lines.append(f"due: {(note.created + timedelta(days=rng.randrange(14, 300))).isoformat()}")
        lines.append(f"priority: {rng.randrange(1, 4)}")
    elif kind in ("article", "paper", "episode"):
        lines.append(f"source: https://example.com/{note.topic}/{rng.randrange(100000, 999999)}")
        if rng.random() < 0.5:
            lines.append(f"author: {json.dumps(rng.choice(FIRST_NAMES) + ' ' + rng.choice(LAST_NAMES), ensure_ascii=False)}")
    elif kind in ("person", "character"):
        if rng.random() < 0.5:
            lines.append(f"birthday: {rng.randrange(1950, 2010)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}")
        lines.append(f"company: {rng.choice(('Acme', 'Initech', 'Globex', 'freelance', 'University', 'Umbrella'))}")
    elif kind == "film":
        lines.append(f"director: {json.dumps(rng.choice(FIRST_NAMES) + ' ' + rng.choice(LAST_NAMES), ensure_ascii=False)}")
        lines.append(f"rating: {rng.randrange(1, 11)}/10")
    elif kind == "foreign":
        lines.append(f"lang: {note.lang}")
    if rng.random() < 0.04:
        lines.append("publish: false")
    if rng.random() < 0.03:
        lines.append("cssclasses:\n  - wide-page")
    lines.append("---")
    return "\n".join(lines)


def _note_tags(rng: random.Random, note: Note) -> list[str]:
    if note.lang != "en":
        return list(LANG_TAGS[note.lang][: 1 + int(rng.random() * 2)])
    t = TOPICS[note.topic]
    tags = [rng.choice(t.tags) for _ in range(1 + int(rng.random() * 3))]
    if rng.random() < 0.4:
        tags.append(rng.choice(GENERAL_TAGS))
    return list(dict.fromkeys(tags))


# --------------------------------------------------------------------------------------------------
# Rendering notes
# --------------------------------------------------------------------------------------------------


def _render_daily(rng: random.Random, note: Note, vault: Vault) -> str:
    p = Prose(rng, note, vault)
    parts = []
    if rng.random() < 0.3:
        tags = rng.choice(("daily", "journal", "[daily]"))
        parts.append(f"---\ncreated: {note.created.isoformat()}\ntags: {tags}\n---")
    if note.size == "short":
        x = rng.random()
        if x < 0.01:
            return (parts[0] + "\n") if parts else ""  # an empty daily note (or frontmatter only)
        lines = []
        for _ in range(1 + int(rng.random() * 3)):
            y = rng.random()
            if y < 0.35:
                lines.append(p.short_sentence())
            elif y < 0.55:
                lines.append(f"- {p.short_sentence()}")
            elif y < 0.7:
                lines.append(f"- [{'x' if rng.random() < 0.4 else ' '}] {_cap(p.verb())} {p.np()}")
            elif y < 0.82:
                lines.append(f"Worked on {vault.link(rng, note)}.")
            elif y < 0.92:
                lines.append(f"Mood: {rng.choice(MOODS)} Energy: {rng.randrange(1, 6)}/5")
            else:
                lines.append(f"{p.short_sentence()} {p.tag()}")
        parts.append("\n".join(lines))
    else:
        sections = ["Morning", "Work", "Notes", "Evening", "Gratitude", "Tasks", "Reading", "Ideas"]
        chosen = sorted(rng.sample(range(len(sections)), 2 + int(rng.random() * 3)))
        per = max(60, note.words // len(chosen))
        for i in chosen:
            parts.append(f"## {sections[i]}")
            if sections[i] == "Tasks":
                parts.append(p.tasks())
            elif sections[i] == "Gratitude":
                parts.append("\n".join(f"{k}. {p.short_sentence()}" for k in range(1, 4)))
            else:
                _fill(p, per, "", parts)
    if rng.random() < 0.15:
        prev_day, next_day = note.created - timedelta(days=1), note.created + timedelta(days=1)
        parts.append(f"<< [[{prev_day.isoformat()}]] | [[{next_day.isoformat()}]] >>")
    return "\n\n".join(parts) + "\n"


def _render_short(rng: random.Random, note: Note, vault: Vault) -> str:
    p = Prose(rng, note, vault)
    parts = []
    if rng.random() < 0.6:
        parts.append(_frontmatter(rng, note, vault, _note_tags(rng, note)))
    if note.kind == "person":
        lines = [f"- Met via {vault.link(rng, note)}", f"- {p.short_sentence()}"]
        if rng.random() < 0.5:
            lines.append(f"- Likes {p.noun()} and {p.noun()}")
        parts.append("\n".join(lines[: 1 + int(rng.random() * 3)]))
    else:
        x = rng.random()
        if x < 0.3:
            parts.append(f"https://example.com/{p.noun().replace(' ', '-')}/{rng.randrange(1000, 9999)}\n{p.short_sentence()}")
        elif x < 0.6:
            parts.append(p.sentence() + (" " + p.tag() if rng.random() < 0.4 else ""))
        elif x < 0.8:
            parts.append(f"- [ ] {_cap(p.verb())} {p.np()}\n- [ ] {_cap(p.verb())} {p.np()}")
        else:
            parts.append(f"{p.short_sentence()} See {vault.link(rng, note)}.")
    return "\n\n".join(parts) + "\n"


def _render_en(rng: random.Random, note: Note, vault: Vault) -> str:
    p = Prose(rng, note, vault)
    parts: list[str] = []
    if rng.random() < 0.85:
        parts.append(_frontmatter(rng, note, vault, _note_tags(rng, note)))
    if note.h1:
        parts.append(f"# {note.title}")
    if not note.sections:
        _fill(p, note.words, "", parts)
    else:
        if rng.random() < 0.6:
            _fill(p, min(120, note.words // 6), "", parts)
        for level, text, budget, special in note.sections:
            parts.append("#" * level + " " + text)
            _fill(p, budget, special, parts)
    if rng.random() < 0.2:
        parts.append(" ".join(p.tag() for _ in range(1 + int(rng.random() * 3))))
    if rng.random() < 0.04:
        parts.append(f"[^1]: {p.sentence()}")
    return "\n\n".join(parts) + "\n"


def _foreign_sentence(rng: random.Random, lang: str) -> str:
    pick = rng.choice
    r = rng.random()
    if lang == "es":
        n = lambda: pick(ES_NOUNS)  # noqa: E731
        if r < 0.2:
            s = f"{n()} {pick(ES_VERBS)} {n()} {pick(ES_PREPS)} {n()}."
        elif r < 0.35:
            s = f"{pick(ES_TIME)}, {n()} {pick(ES_VERBS)} {n()}."
        elif r < 0.5:
            s = f"creo que {n()} es {pick(ES_ADJS)} {pick(ES_PREPS)} {n()}."
        elif r < 0.6:
            s = f"hay que {pick(ES_INF)} {n()} {pick(ES_TIME)}."
        elif r < 0.7:
            s = f"quiero {pick(ES_INF)} {n()} y {pick(ES_INF)} {n()}."
        elif r < 0.78:
            s = f"{n()} no es tan {pick(ES_ADJS)} como {n()}."
        elif r < 0.85:
            s = f"¿por qué {n()} {pick(ES_VERBS)} {n()}?"
        elif r < 0.93:
            s = f"{pick(ES_CONN)}, {n()} {pick(ES_VERBS)} {n()} y {n()} {pick(ES_VERBS)} {n()}."
        else:
            s = f"me parece {pick(ES_ADJS)} que {n()} {pick(ES_VERBS)} {n()}."
        s = s.replace(" de el ", " del ").replace(" a el ", " al ")
        if s.startswith("¿"):
            return "¿" + _cap(s[1:])
        return _cap(s)
    if lang == "de":
        def np(case: str) -> str:
            g, w = pick(DE_NOUNS)
            x = rng.random()
            art = DE_ART[case][g][0 if x < 0.6 else (1 if x < 0.8 else 2)]
            return f"{art} {w}"
        v = pick(DE_VERBS)
        if r < 0.2:
            s = f"{np('nom')} {v[0]} {np('acc')} {pick(DE_TIME)}."
        elif r < 0.35:
            s = f"{pick(DE_TIME)} {v[0]} {np('nom')} {np('acc')}."
        elif r < 0.5:
            s = f"ich {v[1]} {np('acc')} {pick(DE_TIME)}."
        elif r < 0.6:
            s = f"{np('nom')} ist {pick(DE_ADJS)}, aber {np('nom')} ist {pick(DE_ADJS)}."
        elif r < 0.7:
            s = f"mit {np('dat')} ist {np('nom')} {pick(DE_ADJS)}."
        elif r < 0.78:
            s = f"ich möchte {np('acc')} {pick(DE_TIME)} {v[2]}."
        elif r < 0.85:
            s = f"warum {v[0]} {np('nom')} {np('acc')}?"
        elif r < 0.93:
            s = f"{pick(DE_CONN)} {v[0]} {np('nom')} {np('acc')}."
        else:
            s = f"ich glaube, dass {np('nom')} {np('acc')} {v[0]}."
        return _cap(s)
    if lang == "zh":
        clause = lambda: f"{pick(ZH_SUBJ)}{pick(ZH_TIME)}{pick(ZH_ADV)}{pick(ZH_VERB)}{pick(ZH_OBJ)}"  # noqa: E731
        if r < 0.5:
            return clause() + "。"
        if r < 0.6:
            return f"{pick(ZH_OBJ)}真的很重要吗？"
        return pick(ZH_CONN).format(a=clause(), b=clause())
    clause = lambda: f"{pick(JA_SUBJ)}は{pick(JA_TIME)}{pick(JA_OBJ)}を{pick(JA_VERB)}"  # noqa: E731
    if r < 0.55:
        return f"{pick(JA_CONN)}{clause()}。"
    if r < 0.65:
        return f"{pick(JA_OBJ)}はとても大切だと思います。"
    return f"{clause()}が、{pick(JA_OBJ)}はまだです。"


def _render_foreign(rng: random.Random, note: Note, vault: Vault) -> str:
    lang = note.lang
    sep = "" if lang in ("zh", "ja") else " "
    parts = [_frontmatter(rng, note, vault, _note_tags(rng, note))] if rng.random() < 0.85 else []
    if note.h1:
        parts.append(f"# {note.title}")

    def para() -> str:
        return sep.join(_foreign_sentence(rng, lang) for _ in range(2 + int(rng.random() * 5)))

    sections = note.sections or [(2, _heading_text(rng, note.topic, lang), note.words, "")]
    for level, text, budget, _ in sections:
        parts.append("#" * level + " " + text)
        used = 0
        while used < budget:
            x = rng.random()
            if x < 0.7:
                block = para()
            elif x < 0.85:
                block = "\n".join(f"- {_foreign_sentence(rng, lang)}" for _ in range(2 + int(rng.random() * 4)))
            elif x < 0.93:
                block = "\n".join(f"- [ ] {_foreign_sentence(rng, lang)}" for _ in range(1 + int(rng.random() * 3)))
            else:
                block = f"{_foreign_sentence(rng, lang)} {vault.link(rng, note)}"
            parts.append(block)
            used += _count(block) if sep else len(block) // 2
    return "\n\n".join(parts) + "\n"


def _render_special(rng: random.Random, note: Note, vault: Vault) -> str:
    if note.kind == "home":
        lines = ["# Home", "", "Start here. Maps of content:", ""]
        lines += [f"- [[{n.title}]]" for n in vault.notes if n.kind == "moc"]
        lines += ["", "## Categories", ""] + [f"- [[{n.title}]]" for n in vault.notes if n.kind == "category"]
        lines += ["", "## Active projects", ""] + [f"- [[{p}]]" for p in PROJECT_NAMES]
        return "\n".join(lines) + "\n"
    if note.kind == "category":
        return (f"---\ntags: [category]\n---\n\nEverything filed under {note.title.lower()}.\n\n"
                f"```dataview\nTABLE created, tags\nFROM \"\"\nWHERE contains(categories, [[{note.title}]])\n"
                f"SORT created DESC\n```\n")
    if note.kind == "moc":
        members = vault.by_topic.get(note.topic, [])
        members = sorted(rng.sample(members, min(len(members), 60)), key=lambda n: n.idx)
        by_folder: dict[str, list[Note]] = {}
        for m in members:
            by_folder.setdefault(m.folder, []).append(m)
        lines = ["---", "tags: [moc]", "---", "", f"# {note.title}", ""]
        lines.append(f"A map of everything about {note.topic}.")
        for folder in sorted(by_folder):
            lines += ["", f"## {folder}", ""] + [f"- [[{m.title}]]" for m in by_folder[folder]]
        return "\n".join(lines) + "\n"
    # Templates
    if note.title == "Daily Note":
        return ("---\ncreated: {{date:YYYY-MM-DD}}\ntags: daily\n---\n\n## Morning\n\n## Tasks\n- [ ] \n\n"
                "## Evening\n\n<< [[{{yesterday}}]] | [[{{tomorrow}}]] >>\n")
    if note.title == "Meeting":
        return ("---\ncreated: {{date}}\ncategories:\n  - \"[[Meetings]]\"\nattendees: []\n---\n\n"
                "## Agenda\n\n- \n\n## Notes\n\n## Action Items\n- [ ] \n")
    return ("---\ncategories:\n  - \"[[Books]]\"\nauthor: \nrating: \nstatus: to-read\n---\n\n"
            "## Summary\n\n## Key Ideas\n\n## Quotes\n")


def render_note(note: Note, vault: Vault, seed: int) -> str:
    rng = random.Random(f"vaultrag-bench/note/{seed}/{note.idx}")
    if note.size == "special":
        return _render_special(rng, note, vault)
    if note.kind == "daily":
        return _render_daily(rng, note, vault)
    if note.lang != "en":
        return _render_foreign(rng, note, vault)
    if note.size == "short":
        return _render_short(rng, note, vault)
    return _render_en(rng, note, vault)


# --------------------------------------------------------------------------------------------------
# Writing the vault
# --------------------------------------------------------------------------------------------------


@dataclass
class Stats:
    notes: int = 0
    trash_notes: int = 0
    folders: int = 0
    bytes: int = 0
    words: int = 0
    sizes: dict = field(default_factory=lambda: {"short": 0, "medium": 0, "long": 0, "special": 0})
    langs: dict = field(default_factory=dict)
    seconds: float = 0.0


def _word_count(text: str, lang: str) -> int:
    if lang in ("zh", "ja"):
        return sum(1 for ch in text if "\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff") + len(text.split())
    return len(text.split())


def _epoch(d: date, rng: random.Random) -> float:
    dt = datetime(d.year, d.month, d.day, tzinfo=timezone.utc) + timedelta(seconds=rng.randrange(7 * 3600, 23 * 3600))
    return dt.timestamp()


def _prepare(out: Path, overwrite: bool) -> None:
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise FileExistsError(f"{out} is not empty (pass overwrite=True / --overwrite to replace a generated vault)")
        if not (out / MARKER).is_file():
            raise FileExistsError(f"{out} is not empty and was not made by this generator; refusing to delete it")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def _write(path: Path, data: bytes, mtime: float) -> None:
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))


def _write_extras(out: Path, vault: Vault, notes: int, seed: int) -> tuple[int, int, set[str]]:
    """.obsidian/ settings, .trash/ notes and attachments. Returns (trash notes, bytes, folders)."""
    rng = random.Random(f"vaultrag-bench/extras/{seed}")
    size = 0
    folders: set[str] = set()
    obsidian = out / ".obsidian"
    obsidian.mkdir(exist_ok=True)
    settings = {
        "app.json": {"alwaysUpdateLinks": True, "newFileLocation": "folder", "newFileFolderPath": "Inbox",
                     "attachmentFolderPath": "Attachments", "userIgnoreFilters": ["Attachments/"],
                     "showLineNumber": False, "promptDelete": False, "useMarkdownLinks": False,
                     "newLinkFormat": "shortest"},
        "appearance.json": {"baseFontSize": 16, "theme": "obsidian", "cssTheme": ""},
        "core-plugins.json": ["file-explorer", "global-search", "switcher", "graph", "backlink", "outgoing-link",
                              "tag-pane", "page-preview", "daily-notes", "templates", "note-composer",
                              "command-palette", "outline", "word-count", "file-recovery", "bookmarks"],
        "community-plugins.json": ["dataview", "obsidian-tasks-plugin", "calendar"],
        "daily-notes.json": {"folder": "Journal", "format": "YYYY/MM/YYYY-MM-DD", "template": "Templates/Daily Note"},
        MARKER.split("/", 1)[1]: {"generator": "bench/generate_vault.py", "notes": notes, "seed": seed},
    }
    mtime = _epoch(vault.end, rng)
    for name, value in settings.items():
        data = (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode()
        _write(obsidian / name, data, mtime)

    trash = out / ".trash"
    (trash / "Old Ideas").mkdir(parents=True, exist_ok=True)
    en = [n for n in vault.notes if n.lang == "en" and n.kind not in ("daily",) and n.size != "special"]
    trashed = (
        (trash / "Untitled.md", f"{TRASH_SENTINEL}\n"),
        (trash / "Old Draft.md", None),
        (trash / "Old Ideas" / "Scratch 2.md", None),
    )
    for path, text in trashed:
        if text is None:
            fake = Note(-1, path.stem, ".trash", "generic", rng.choice(TOPIC_NAMES), words=rng.randrange(150, 500),
                        created=vault.start)
            p = Prose(rng, fake, Vault(en, [], vault.people, vault.start, vault.end))
            body: list[str] = [f"# {path.stem}", f"Deleted note {TRASH_SENTINEL}."]
            _fill(p, fake.words, "", body)
            text = "\n\n".join(body) + "\n"
        data = text.encode()
        size += len(data)
        _write(path, data, mtime)

    att = out / "Attachments"
    att.mkdir(exist_ok=True)
    folders.add("Attachments")
    for name in ("diagram.png", "whiteboard.png"):
        _write(att / name, PNG_1X1, mtime)
        size += len(PNG_1X1)
    canvas_dir = "Projects/Alpha" if any(n.folder == "Projects/Alpha" for n in vault.notes) else "Attachments"
    canvas = {"nodes": [{"id": "a1", "type": "text", "text": "Architecture overview", "x": 0, "y": 0,
                         "width": 250, "height": 60},
                        {"id": "a2", "type": "file", "file": "Attachments/diagram.png", "x": 0, "y": 120,
                         "width": 400, "height": 300}],
              "edges": [{"id": "e1", "fromNode": "a1", "fromSide": "bottom", "toNode": "a2", "toSide": "top"}]}
    (out / canvas_dir).mkdir(parents=True, exist_ok=True)
    data = (json.dumps(canvas, indent=2) + "\n").encode()
    _write(out / canvas_dir / "Architecture.canvas", data, mtime)
    size += len(data)
    return len(trashed), size, folders


def _generate(out: Path, notes: int, seed: int, overwrite: bool = False) -> Stats:
    if notes < 0:
        raise ValueError("notes must be >= 0")
    t0 = time.perf_counter()
    out = Path(out)
    _prepare(out, overwrite)
    vault = _plan(notes, seed)
    stats = Stats()
    folders: set[str] = set()
    for note in vault.notes:
        parts = note.folder.split("/") if note.folder else []
        for i in range(1, len(parts) + 1):
            folders.add("/".join(parts[:i]))
    for folder in sorted(folders):
        (out / folder).mkdir(parents=True, exist_ok=True)
    mrng = random.Random(f"vaultrag-bench/mtime/{seed}")
    for note in vault.notes:
        text = render_note(note, vault, seed)
        data = text.encode("utf-8")
        modified = note.created + timedelta(days=int(mrng.random() ** 3 * 90))
        _write(out / note.relpath, data, _epoch(modified, mrng))
        stats.notes += 1
        stats.bytes += len(data)
        stats.words += _word_count(text, note.lang)
        stats.sizes[note.size] = stats.sizes.get(note.size, 0) + 1
        stats.langs[note.lang] = stats.langs.get(note.lang, 0) + 1
    stats.trash_notes, extra_bytes, extra_folders = _write_extras(out, vault, notes, seed)
    stats.bytes += extra_bytes
    stats.folders = len(folders | extra_folders)
    stats.seconds = time.perf_counter() - t0
    return stats


def generate_vault(out: Path, notes: int, seed: int, *, overwrite: bool = False) -> None:
    """Write a synthetic vault of `notes` notes into `out` (created if missing; must be empty unless
    `overwrite` is set and `out` holds a vault made by this generator). Same arguments, same bytes."""
    _generate(Path(out), notes, seed, overwrite)


def _summary(out: Path, s: Stats) -> str:
    tokens = s.words * 1.3
    langs = ", ".join(f"{k} {v}" for k, v in sorted(s.langs.items(), key=lambda kv: -kv[1]))
    return "\n".join((
        f"vault:   {out}",
        f"notes:   {s.notes:,} (+{s.trash_notes} in .trash; short {s.sizes.get('short', 0):,}, "
        f"medium {s.sizes.get('medium', 0):,}, long {s.sizes.get('long', 0):,}, "
        f"hubs/templates {s.sizes.get('special', 0):,})",
        f"langs:   {langs}",
        f"folders: {s.folders:,} (plus .obsidian/ and .trash/)",
        f"size:    {s.bytes / 1e6:.1f} MB",
        f"words:   {s.words:,} ({s.words / max(1, s.notes):,.0f} per note; CJK characters counted one each)",
        f"tokens:  ~{tokens / 1e6:.1f} M (estimate: ~1.3 a word)",
        f"chunks:  ~{tokens / 250:,.0f}-{tokens / 170:,.0f} (full 250-token chunks; splitting at headings gives more)",
        f"time:    {s.seconds:.2f} s",
    ))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Generate a deterministic synthetic Obsidian vault for vaultrag benchmarks.")
    parser.add_argument("out", type=Path, help="output directory (created; must be empty or --overwrite)")
    parser.add_argument("--notes", type=int, default=5000, help="number of notes (default 5000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace OUT if it holds a vault made by this generator")
    args = parser.parse_args(argv)
    try:
        stats = _generate(args.out, args.notes, args.seed, args.overwrite)
    except (FileExistsError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(_summary(args.out, stats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
