"""Counting text in the embedding model's own tokens, without loading the model (only its fast tokenizer)."""

from __future__ import annotations

from pathlib import Path

from tokenizers import Tokenizer


class TokenCounter:
    """Token counts and token-bounded prefixes, measured with the tokenizer of the embedding model."""

    def __init__(self, tokenizer_file: Path | str):
        self._tok = Tokenizer.from_file(str(tokenizer_file))
        self._tok.no_truncation()
        self._tok.no_padding()
        # Tokens the model adds around every input ([CLS] ... [SEP] for BERT-style models).
        self.special_tokens = self._tok.post_processor.num_special_tokens_to_add(False) if self._tok.post_processor else 0

    def count(self, texts: list[str]) -> list[int]:
        """Tokens in each text, not counting the model's special tokens."""
        return [len(e.ids) for e in self._tok.encode_batch(texts, add_special_tokens=False)]

    def prefix_chars(self, text: str, max_tokens: int) -> int:
        """Length in characters of the longest prefix of `text` that holds at most `max_tokens` tokens.

        Always at least 1 for non-empty text, so a caller that splits in a loop makes progress.
        """
        offsets = self._tok.encode(text, add_special_tokens=False).offsets
        if len(offsets) <= max_tokens:
            return len(text)
        end = offsets[max_tokens][0]  # where the first token that does not fit starts
        return max(end, 1)
