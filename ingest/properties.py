"""A note's YAML frontmatter (Obsidian's "properties"): split from the body, read leniently, tags/aliases/links found.

Invalid YAML never loses the note: the text is kept as-is, a warning says why, and `tags`/`aliases` entries that
make sense on their own are still salvaged. YAML whose aliases expand to more than `_MAX_VALUES` values is treated
the same way: a "billion laughs" is a few lines that would take hours and gigabytes to copy out.
"""

from __future__ import annotations

import datetime
import itertools
import math
import re
from dataclasses import dataclass

import frontmatter

from vaultrag.ingest.inline import find_wikilinks
from vaultrag.ingest.note import Link

_OPENING = re.compile(r"---[ \t]*\n")
_CLOSING = re.compile(r"^---[ \t]*$", re.MULTILINE)
_TOP_LEVEL_KEY = re.compile(r"^([^\s#\-][^:\n]*):(?=[ \t]|$)", re.MULTILINE)
_TAG_SEPARATORS = re.compile(r"[,\s]+")
_TAG_KEYS = ("tags", "tag")
_ALIAS_KEYS = ("aliases", "alias")
_YAML = frontmatter.YAMLHandler()
_MAX_VALUES = 100_000  # values in one note's properties, aliases expanded; far more than any real note holds


@dataclass(frozen=True)
class Split:
    """A note's text cut in two. `frontmatter` is None when the note has none."""

    frontmatter: str | None
    body: str
    body_first_line: int  # line number of the body's first line in the file, counting from 1
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Frontmatter:
    """What the frontmatter says. `raw` holds its text only when that text is not valid YAML."""

    properties: dict
    raw: str | None = None
    tags: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()
    warnings: tuple[str, ...] = ()


def split_frontmatter(text: str) -> Split:
    """Obsidian's rule: frontmatter starts on the first line with `---` and ends at the next `---` line."""
    opening = _OPENING.match(text)
    if opening is None:
        return Split(None, text, 1)
    closing = _CLOSING.search(text, opening.end())
    if closing is None:
        warning = "the note starts with '---' but its frontmatter is never closed by another '---'; read as text"
        return Split(None, text, 1, (warning,))
    body_start = min(closing.end() + 1, len(text))
    return Split(text[opening.end() : closing.start()], text[body_start:], text.count("\n", 0, body_start) + 1)


def read_frontmatter(raw: str) -> Frontmatter:
    """Properties, tags, aliases and links of `raw`, the text between the `---` lines (the first is line 1)."""
    try:
        loaded = _YAML.load(raw)
        properties = _json_safe(loaded if loaded is not None else {})
    except Exception as error:  # PyYAML raises more than YAMLError on odd input (ValueError for 2024-02-30)
        return _kept_as_text(raw, _yaml_problem(error, raw))
    if not isinstance(properties, dict):
        return _kept_as_text(raw, "frontmatter is not a list of 'key: value' properties; kept as text")
    return Frontmatter(
        properties=properties,
        tags=_tags(properties),
        aliases=_aliases(properties),
        links=tuple(link for text in _strings_in(properties) for link in find_wikilinks(text)),
    )


def _kept_as_text(raw: str, warning: str) -> Frontmatter:
    salvaged = _salvage(raw)
    return Frontmatter({}, raw, _tags(salvaged), _aliases(salvaged), tuple(find_wikilinks(raw)), (warning,))


def _yaml_problem(error: Exception, raw: str) -> str:
    mark = getattr(error, "problem_mark", None)
    if isinstance(error, RecursionError):
        problem = "nested too deeply, or an anchor refers to itself"
    elif isinstance(error, _TooManyValues):
        problem = f"its aliases expand to more than {_MAX_VALUES:,} values"
    else:
        problem = getattr(error, "problem", None) or (str(error).splitlines() or [type(error).__name__])[0]
    where = f"line {mark.line + 2}: " if mark is not None else ""  # +1 for counting from 1, +1 for the '---'
    hint = ", maybe an unfilled template placeholder such as {{date}}" if "{{" in raw else ""
    return f"frontmatter is not valid YAML ({where}{problem}{hint}); kept as text"


def _salvage(raw: str) -> dict:
    """The `tags`/`aliases` entries of invalid frontmatter, each read on its own, else taken literally."""
    starts = list(_TOP_LEVEL_KEY.finditer(raw))
    salvaged: dict = {}
    for start, following in zip(starts, [*starts[1:], None]):
        key = start[1].strip()
        if key.lower() not in _TAG_KEYS + _ALIAS_KEYS:
            continue
        entry = raw[start.start() : following.start() if following else len(raw)]
        try:
            salvaged.update(_json_safe(_YAML.load(entry)))
        except Exception:  # still invalid on its own: take its items literally
            first, *rest = entry.split("\n")
            items = [item.strip().removeprefix("- ").strip().strip("'\"") for item in [first.partition(":")[2], *rest]]
            salvaged[key] = [item for item in items if item]
    return salvaged


class _TooManyValues(ValueError):
    """Loaded YAML holds more than _MAX_VALUES values once its aliases are copied out."""


def _json_safe(value, counted: itertools.count | None = None):
    """`value` as JSON types: dates become ISO strings, sets and tuples lists, anything else unknown a string.
    Raises _TooManyValues past _MAX_VALUES values (`counted` counts them across the recursion)."""
    counted = itertools.count() if counted is None else counted
    if next(counted) >= _MAX_VALUES:
        raise _TooManyValues()
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict):
        return {str(_json_safe(key, counted)): _json_safe(item, counted) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item, counted) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted((_json_safe(item, counted) for item in value), key=str)
    return str(value)


def _values(properties: dict, keys: tuple[str, ...]) -> list:
    """The values of `keys`, in any letter case (Obsidian also reads `Tags:`)."""
    return [value for key, value in properties.items() if key.lower() in keys]


def _flatten(value) -> list:
    """The non-empty scalars in a value and its nested lists (`- ` alone parses as None and is dropped)."""
    if isinstance(value, list):
        return [scalar for item in value for scalar in _flatten(item)]
    return [] if value is None or value == "" or isinstance(value, dict) else [value]


def _tags(properties: dict) -> tuple[str, ...]:
    """Tags without '#'; every string holds one or more, separated by commas or spaces."""
    items = (item for value in _values(properties, _TAG_KEYS) for item in _flatten(value))
    words = (word for item in items for word in _TAG_SEPARATORS.split(str(item)))
    return tuple(tag for tag in (word.lstrip("#") for word in words) if tag)


def _aliases(properties: dict) -> tuple[str, ...]:
    """Aliases in order, each once; a string (not a list item) is one alias unless it holds commas."""
    found: list = []
    for value in _values(properties, _ALIAS_KEYS):
        found += value.split(",") if isinstance(value, str) else _flatten(value)
    return tuple(dict.fromkeys(alias for alias in (str(item).strip() for item in found) if alias))


def _strings_in(value) -> list[str]:
    """Every string in a property value, however deeply nested."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings_in(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings_in(item)]
    return []
