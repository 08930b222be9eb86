"""One answer in OpenAI's exact JSON: a completion, or the chunks of a stream; sources as Open WebUI's citations."""

from __future__ import annotations

import json
import time
import uuid

from vaultrag.service.answering.answerer import Source
from vaultrag.service.llm.base import ChatOptions, Usage


class Reply:
    """One response's id, timestamp and model, and the OpenAI shapes around its content."""

    def __init__(self, model: str):
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.model = model

    def completion(self, text: str, usage: Usage, finish: str, sources: list[Source]) -> dict:
        return {"id": self.id, "object": "chat.completion", "created": self.created, "model": self.model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish,
                             "logprobs": None}],
                "usage": usage_json(usage), "sources": [open_webui_source(s) for s in sources]}

    def chunk(self, delta: dict | None = None, finish: str | None = None, **extra) -> str:
        """A `chat.completion.chunk` as JSON text; without `delta`, one with no choices (usage, a source event)."""
        choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]
        payload = {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                   "choices": choices, **extra}
        return json.dumps(payload, ensure_ascii=False)


def finish_reason(usage: Usage, options: ChatOptions) -> str:
    return "length" if options.max_tokens and usage.completion_tokens >= options.max_tokens else "stop"


def usage_json(usage: Usage) -> dict:
    return {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.prompt_tokens + usage.completion_tokens}


def open_webui_source(s: Source) -> dict:
    """Open WebUI's citation shape: the source, the excerpt as the document, metadata naming where it came from."""
    name = s.heading or s.title
    return {"source": {"id": s.url, "name": name, "url": s.url},
            "document": [s.text],
            "metadata": [{"source": s.url, "name": name, "path": s.path, "page": s.page, "score": s.score}],
            "distances": [1 - s.score]}
