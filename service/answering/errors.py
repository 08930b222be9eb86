"""The chat requests answering refuses: a model it does not offer, or more than the configured limits.

    RequestRefused             (this module) a chat request the daemon will not answer; the message says why
    ├── UnknownModel           the requested model id is none of those listed at /v1/models
    ├── TooManyMessages        the conversation has more than server.max_messages messages
    └── QuestionTooLong        the question is longer than server.max_question_chars
"""

from __future__ import annotations

from vaultrag.config.errors import VaultragError


class RequestRefused(VaultragError):
    """A chat request the daemon will not answer; the message says why and which setting or list to look at."""


class UnknownModel(RequestRefused):
    """The requested model id is not offered; the message lists the ones that are."""


class TooManyMessages(RequestRefused):
    """The conversation is longer than server.max_messages; the message gives both counts."""


class QuestionTooLong(RequestRefused):
    """The question is longer than server.max_question_chars; the message gives both lengths."""
