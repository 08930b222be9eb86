"""How names compare wherever they meet (paths, titles, aliases, links, tags, filters): Unicode NFC, then casefold.

A file saved on macOS or synced from HFS+ has a decomposed (NFD) name, `Cafe` + U+0301; a link or filter typed
elsewhere is composed (NFC), `Café`. Both give the same key. Files keep their names as on disk (they are opened by
them); only the comparisons use keys.
"""

from __future__ import annotations

import unicodedata


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def name_key(text: str) -> str:
    """The form two names are compared in: canonically equal and caseless (Python's casefold, not ASCII lower)."""
    return nfc(nfc(text).casefold())
