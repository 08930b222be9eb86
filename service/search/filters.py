"""Search filters: by tag, folder, date and kind of file; given as JSON in `/api/search` or written in a question.

Inline filters are words of the question: `tag:project`, `path:Work/`, `after:2025-01-01` and `type:pdf` (the kinds
of ingest.kinds: note, excalidraw, canvas, pdf, image; quote values with spaces: `path:"Work Notes/"`). They are
taken out of the text before it is embedded or matched, so "tag:garden when to water?" searches for "when to
water?" among notes tagged #garden (and its nested tags, #garden/roses).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from vaultrag.config.errors import VaultragError
from vaultrag.ingest.kinds import KINDS

_INLINE = re.compile(r"(?<!\S)(tag|path|after|type):(\"[^\"]+\"|\S+)", re.IGNORECASE)


class FilterError(VaultragError):
    """A filter value that cannot be used; the message names the filter and the value."""


@dataclass(frozen=True)
class Filters:
    tags: tuple[str, ...] = ()  # any of these tags (or a nested tag below one) must be on the note
    path_prefix: str = ""  # the note's path inside the vault starts with this
    modified_after: date | None = None  # the file was modified on or after this day (local time)
    kinds: tuple[str, ...] = ()  # the file is of one of these kinds ("pdf", "canvas"...)

    def __bool__(self) -> bool:
        return bool(self.tags or self.path_prefix or self.modified_after or self.kinds)

    def merged(self, other: "Filters") -> "Filters":
        return Filters(tuple(dict.fromkeys(self.tags + other.tags)), other.path_prefix or self.path_prefix,
                       other.modified_after or self.modified_after, tuple(dict.fromkeys(self.kinds + other.kinds)))

    @property
    def modified_after_seconds(self) -> float | None:
        if self.modified_after is None:
            return None
        return datetime.combine(self.modified_after, datetime.min.time()).timestamp()


def make_filters(tags: list[str] | None = None, path_prefix: str = "", modified_after: str | None = None,
                 kinds: list[str] | None = None) -> Filters:
    """Filters from API/CLI values; a bad value raises FilterError naming it."""
    unknown = [kind for kind in kinds or [] if kind.lower() not in KINDS]
    if unknown:
        raise FilterError(f"filters.kinds: {unknown[0]!r} is not a kind of file; kinds are {', '.join(KINDS)}")
    cleaned = []
    for tag in tags or []:
        tag = tag.strip().lstrip("#").strip("/")
        if not tag:
            raise FilterError("filters.tags: an empty tag")
        cleaned.append(tag)
    day = None
    if modified_after:
        try:
            day = date.fromisoformat(modified_after)
        except ValueError:
            raise FilterError(f"filters.modified_after: {modified_after!r} is not a date like 2025-01-31") from None
    return Filters(tuple(cleaned), path_prefix.strip().lstrip("/"), day,  # only compared with indexed paths
                   tuple(dict.fromkeys(kind.lower() for kind in kinds or [])))


def split_inline(question: str) -> tuple[str, Filters]:
    """The question without its inline filters, and those filters."""
    tags, prefix, after, kinds = [], "", None, []
    for kind, value in _INLINE.findall(question):
        value = value.strip('"')
        kind = kind.lower()
        if kind == "tag":
            tags.append(value)
        elif kind == "path":
            prefix = value
        elif kind == "type":
            kinds.append(value)
        else:
            after = value
    if not (tags or prefix or after or kinds):
        return question, Filters()
    text = re.sub(r"\s{2,}", " ", _INLINE.sub("", question)).strip()
    return text, make_filters(tags, prefix, after, kinds)
