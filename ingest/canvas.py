"""An Obsidian Canvas board (`.canvas`, JSON Canvas 1.0) read as a note: each group is a heading (its label, groups
inside groups nested), each text card's Markdown the text under the innermost group around it, a file card an
embed of that file (`![[Notes/Plan.md]]`, so the board links to it) and a link card its URL. Cards are read top to
bottom, left to right. A labelled edge (an arrow with words on it) is a line "Hire a plumber → before → Tile the
bathroom" (each end named by its card's first line, file, URL or group label), after the cards of the group around
its first end. The Markdown built is parsed like any note: tags and wikilinks in cards count.
"""

from __future__ import annotations

import json

from vaultrag.ingest.markdown import parse_note
from vaultrag.ingest.note import Note
from vaultrag.ingest.vault import NoteUnreadable

MAX_DEPTH = 6  # Markdown has six heading levels; deeper groups share the sixth
MAX_END_CHARS = 80  # an edge's end is named by at most this much of its card's first line


def parse_canvas(path: str, text: str) -> Note:
    """The board at vault-relative `path` whose file holds `text`; NoteUnreadable when it is not JSON Canvas."""
    try:
        board = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        raise NoteUnreadable(path, f"not a valid Canvas file (JSON error at line {exc.lineno}: {exc.msg})") from None
    nodes = board.get("nodes") if isinstance(board, dict) else None
    if not isinstance(nodes, list):
        raise NoteUnreadable(path, "not a valid Canvas file (no list of \"nodes\")")
    nodes = [n for n in nodes if isinstance(n, dict) and _box(n) is not None]
    groups = sorted((n for n in nodes if n.get("type") == "group"), key=_reading_order)
    parents = {id(g): _innermost(g, groups) for g in groups}
    cards: dict[int | None, list[str]] = {}
    for node in sorted((n for n in nodes if n.get("type") != "group"), key=_reading_order):
        cards.setdefault(_innermost(node, groups), []).append(_card(node))
    _add_edges(board.get("edges"), nodes, groups, cards)
    lines = list(cards.get(None, []))
    for group in (g for g in groups if parents[id(g)] is None):
        lines += _group_lines(group, groups, parents, cards, depth=1)
    title = path.rsplit("/", 1)[-1]
    note = parse_note(path, "\n\n".join(line for line in lines if line))
    return Note(path=path, title=title[: -len(".canvas")] if title.lower().endswith(".canvas") else title,
                tags=note.tags, links=note.links, sections=note.sections, warnings=note.warnings)


def _group_lines(group: dict, groups: list[dict], parents: dict, cards: dict, depth: int) -> list[str]:
    label = str(group.get("label") or "Group").replace("\n", " ").strip()
    lines = [f"{'#' * min(depth, MAX_DEPTH)} {label}", *cards.get(id(group), [])]
    for child in (g for g in groups if parents[id(g)] == id(group)):
        lines += _group_lines(child, groups, parents, cards, depth + 1)
    return lines


def _card(node: dict) -> str:
    kind = node.get("type")
    if kind == "text":
        return str(node.get("text") or "").strip()
    if kind == "file" and isinstance(node.get("file"), str):
        subpath = node.get("subpath") if isinstance(node.get("subpath"), str) else ""
        return f"![[{node['file']}{subpath}]]"
    if kind == "link" and isinstance(node.get("url"), str):
        return f"<{node['url']}>"
    return ""


def _add_edges(edges, nodes: list[dict], groups: list[dict], cards: dict) -> None:
    """Each labelled edge's line, added to the lines of the group around its first end (a group's own, when the
    edge starts at a group)."""
    by_id = {n["id"]: n for n in nodes if isinstance(n.get("id"), str)}
    for edge in (e for e in edges if isinstance(e, dict)) if isinstance(edges, list) else ():
        start, end = (by_id.get(edge[key]) if isinstance(edge.get(key), str) else None for key in ("fromNode", "toNode"))
        label = str(edge.get("label") or "").replace("\n", " ").strip()
        if label and start is not None and end is not None:
            where = id(start) if start.get("type") == "group" else _innermost(start, groups)
            cards.setdefault(where, []).append(f"{_end(start)} → {label} → {_end(end)}")


def _end(node: dict) -> str:
    """How an edge names the card at one of its ends: the first line of its text (no heading marks), its file's
    name, its URL, or a group's label."""
    kind = node.get("type")
    if kind == "file" and isinstance(node.get("file"), str):
        name = node["file"].rsplit("/", 1)[-1]
        return name[:-3] if name.lower().endswith(".md") else name
    if kind == "link" and isinstance(node.get("url"), str):
        return node["url"]
    text = str(node.get("label") if kind == "group" else node.get("text") or "").strip()
    first = text.split("\n", 1)[0].lstrip("#").strip()
    return first[:MAX_END_CHARS] + ("…" if len(first) > MAX_END_CHARS else "")


def _innermost(node: dict, groups: list[dict]) -> int | None:
    """The id() of the smallest group whose box holds `node`'s box (not the node itself), or None."""
    x, y, w, h = _box(node)
    around = [g for g in groups if g is not node and _holds(_box(g), (x, y, w, h))]
    return id(min(around, key=lambda g: _box(g)[2] * _box(g)[3])) if around else None


def _holds(outer: tuple, inner: tuple) -> bool:
    """Whether box `inner` lies inside box `outer` (two equal boxes hold neither the other)."""
    (ox, oy, ow, oh), (x, y, w, h) = outer, inner
    return outer != inner and ox <= x and oy <= y and x + w <= ox + ow and y + h <= oy + oh


def _box(node: dict) -> tuple[float, float, float, float] | None:
    try:
        return tuple(float(node[key]) for key in ("x", "y", "width", "height"))
    except (KeyError, TypeError, ValueError):
        return None


def _reading_order(node: dict) -> tuple[float, float]:
    x, y, _, _ = _box(node)
    return y, x
