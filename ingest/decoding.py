"""Turning a note's bytes into text, whatever its encoding, or saying why they are not text (a PDF renamed to .md)."""

from __future__ import annotations

import codecs

import charset_normalizer

_SNIFF_BYTES = 8192  # binary check: a NUL byte in this many leading bytes
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# Files often renamed to .md by mistake, by their first bytes (some hold no NUL byte early on).
_SIGNATURES = ((b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
               (b"%PDF", "a PDF document"), (b"PK\x03\x04", "a ZIP archive or Office document"),
               (b"SQLite format 3\0", "an SQLite database"))


class NoteUnreadable(Exception):
    """A note that cannot be turned into text; `reason` says why in plain words."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def decode_note(path: str, data: bytes) -> tuple[str, list[str]]:
    """Text and warnings: a BOM decides, else a binary signature or NUL bytes mean binary, else UTF-8 (with a few
    corrupted bytes shown as \ufffd when the rest is UTF-8 beyond ASCII), else the likeliest legacy codec."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            text = data[len(bom) :].decode(codec, errors="replace")
            return text, (["invalid UTF bytes replaced with \ufffd"] if "\ufffd" in text else [])
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            raise NoteUnreadable(path, f"binary content ({kind}), not a text note")
    if b"\0" in data[:_SNIFF_BYTES]:
        raise NoteUnreadable(path, "binary content, not a text note")
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as error:
        first_bad = f"byte 0x{data[error.start]:02x} at offset {error.start}"
    text = data.decode("utf-8", errors="replace")
    replaced = text.count("\ufffd")
    if len(text) - len(text.encode("ascii", "ignore")) > 2 * replaced:  # more valid non-ASCII than corrupted
        places = f"{replaced} places" if replaced > 1 else "1 place"
        return text, [f"not valid UTF-8 in {places} (first {first_bad}); shown as \ufffd"]
    # Short Western text fools detectors, and cp1252 is the usual legacy encoding of notes: try it first, unless
    # the result reads like mojibake; then let charset_normalizer guess among all encodings.
    guess = charset_normalizer.from_bytes(data, cp_isolation=["cp1252"]).best()
    guess = guess or charset_normalizer.from_bytes(data).best()
    if guess is None:
        raise NoteUnreadable(path, f"not text in any known encoding ({first_bad} is not UTF-8)")
    return str(guess), [f"not UTF-8; decoded as {guess.encoding}"]
