"""Cutting text too large for one chunk into pieces that each fit `max_tokens` tokens and `max_chars` characters.

Whole paragraphs and fenced code blocks are packed greedily; a block too large alone is cut at lines, then sentence
ends, then whitespace, then any token boundary (at most `max_chars` apart: a run of Thai or Khmer is a single token).
A code block is cut at lines, each part in its own fence.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right

from vaultrag.ingest.tokens import TokenCounter

_LEADING_BLANK_LINES = re.compile(r"(?:[ \t]*\n)*")
_FENCE_OPENING = re.compile(r"[ \t]{0,3}(`{3,}|~{3,})")
# Where a paragraph too large for one chunk may be cut, best first; past the last, at any token boundary.
_BOUNDARIES = (
    re.compile(r"\n"),
    re.compile(  # sentence ends: Latin-style marks need a space after; scripts without spaces may go straight on
        r"[.!?…][\"'”’)\]]*\s+|[。！？｡।॥။។៕ฯ؟۔።][\"'”’」』）)\]]*\s*"
    ),
    re.compile(r"\s+"),
)


class Splitter:
    """Cuts texts for one note; `window_hint` (characters to tokenize for one piece) adapts to the text's script."""

    def __init__(self, counter: TokenCounter, window_hint: int):
        self.counter = counter
        self.window_hint = window_hint

    def cut(self, text: str, max_tokens: int, max_chars: int) -> list[str]:
        """`text` packed greedily into pieces that fit, of whole paragraphs and code blocks where they fit
        (counted in one batch); a block too large alone is cut, and its last part may take what follows."""
        ends = _block_ends(text)
        blocks = [text[start:end] for start, end in zip([0, *ends], ends) if end > start]
        pieces, current, current_tokens = [], "", 0
        for block, tokens in zip(blocks, count_short(self.counter, blocks, max_chars)):
            if tokens is None or tokens > max_tokens:
                fence = _FENCE_OPENING.match(block)
                fenced = fence and self._split_fence(block, fence.group(1), max_tokens, max_chars)
                *done, last = fenced or self._split(block, 0, max_tokens, max_chars)
                pieces += [current, *done]
                current, current_tokens = last, self.counter.count([last])[0]
            elif current_tokens + tokens <= max_tokens and len(current) + len(block) <= max_chars:
                current, current_tokens = current + block, current_tokens + tokens
            else:
                pieces.append(current)
                current, current_tokens = block, tokens
        return [trimmed for piece in [*pieces, current] if (trimmed := trim(piece))]

    def _split(
        self, text: str, level: int, max_tokens: int, max_chars: int, first_fit: int | None = None
    ) -> list[str]:
        """`text` cut into pieces that fit, each of as many whole parts between `_BOUNDARIES[level]` as fit; a part
        too large alone is cut at the next boundaries. `first_fit`: how much of `text` fits, when known."""
        if level == len(_BOUNDARIES):
            return self._hard_split(text, max_tokens, max_chars, first_fit)
        ends = [match.end() for match in _BOUNDARIES[level].finditer(text)] + [len(text)]
        pieces, start = [], 0
        while start < len(text):
            fitting = first_fit if start == 0 and first_fit else self._fitting_end(text, start, max_tokens, max_chars)
            last_fitting_end = ends[bisect_right(ends, fitting) - 1] if ends[0] <= fitting else 0
            if last_fitting_end > start:
                pieces.append(text[start:last_fitting_end])
                start = last_fitting_end
                continue
            part_end = ends[bisect_right(ends, start)]  # the part from `start` is too large alone
            *done, last = self._split(text[start:part_end], level + 1, max_tokens, max_chars, fitting - start)
            pieces += done
            if done:  # the last part may share a piece with the parts that follow
                start = part_end - len(last)
            else:
                pieces.append(last)
                start = part_end
        return pieces

    def _fitting_end(self, text: str, start: int, max_tokens: int, max_chars: int) -> int:
        """Where the longest run of text from `start` that fits ends (at most `max_chars` on). Tokenizes a window
        a little longer than the last run that fit, widening it while all of it fits."""
        window = min(self.window_hint, max_chars)
        while True:
            end = min(start + window, len(text))
            fitting = start + self.counter.prefix_chars(text[start:end], max_tokens)
            if fitting < end or end == len(text) or window == max_chars:
                if end < len(text):
                    self.window_hint = max(64, (fitting - start) * 5 // 4)
                return fitting
            window = min(2 * window, max_chars)

    def _hard_split(self, text: str, max_tokens: int, max_chars: int, first_fit: int | None) -> list[str]:
        """`text` cut at token boundaries, each piece at most `max_chars` long (a run of Thai is one token)."""
        pieces, start = [], 0
        while start < len(text):
            fitting = first_fit if start == 0 and first_fit else self._fitting_end(text, start, max_tokens, max_chars)
            pieces.append(text[start : _cluster_start(text, start, fitting)])
            start += len(pieces[-1])
        # A cut can change how the text around it is tokenized (WordPiece makes a whole word [UNK] when one of
        # its characters is unknown), so a piece that no longer fits alone is cut again.
        fitting_pieces = []
        for piece, tokens in zip(pieces, self.counter.count(pieces)):
            too_many = tokens > max_tokens and len(piece) > 1
            fitting_pieces += self._hard_split(piece, max_tokens, max_chars, None) if too_many else [piece]
        return fitting_pieces

    def _split_fence(self, block: str, fence: str, max_tokens: int, max_chars: int) -> list[str]:
        """A code block cut at lines, each part in its own fence; [] when the fence lines leave too little room."""
        opening, _, code = block.partition("\n")
        opening += "\n"
        closing = code.rstrip().rpartition("\n")[2]
        closed = _is_fence_closing(closing, fence)
        if closed:
            code = code.rstrip()[: -len(closing)]
        closing = (closing.strip() if closed else fence) + "\n"
        fence_tokens = sum(self.counter.count([opening, closing]))
        if fence_tokens > max_tokens // 2 or len(opening + closing) > max_chars // 2:
            return []
        lines = self._split(code, 0, max_tokens - fence_tokens, max_chars - len(opening + closing) - 1)
        return [opening + trim(line) + "\n" + closing for line in lines]


def count_short(counter: TokenCounter, texts: list[str], max_chars: int) -> list[int | None]:
    """Token counts of the texts that could fit in `max_chars`, in one batch; None for longer ones."""
    counts = iter(counter.count([text for text in texts if len(text) <= max_chars]))
    return [next(counts) if len(text) <= max_chars else None for text in texts]


def trim(text: str) -> str:
    """Text without trailing whitespace or leading blank lines (an indented first line keeps its indent)."""
    text = text.rstrip()
    return text[_LEADING_BLANK_LINES.match(text).end() :]


def _is_fence_closing(line: str, fence: str) -> bool:
    return line.strip().startswith(fence) and not line.strip().strip(fence[0])


def _block_ends(text: str) -> list[int]:
    """Where the paragraphs (cut after blank lines) and fenced code blocks (kept whole) of `text` end."""
    ends, offset, fence = [], 0, None
    for line in text.splitlines(keepends=True):
        if fence is None and (opening := _FENCE_OPENING.match(line)):
            ends.append(offset)
            fence = opening.group(1)
        elif fence is not None and _is_fence_closing(line, fence):
            ends.append(offset + len(line))
            fence = None
        elif fence is None and not line.strip():  # a blank line ends a paragraph
            ends.append(offset + len(line))
        offset += len(line)
    return ends + [len(text)]


def _cluster_start(text: str, start: int, cut: int) -> int:
    """`cut` moved back (not to `start`) so it does not separate a combining mark from its base character."""
    while cut > start + 1 and cut < len(text) and unicodedata.category(text[cut]).startswith("M"):
        cut -= 1
    return cut
