"""Answering from the notes: a standalone query, retrieval, a prompt with numbered excerpts that fits the model's
context, then the LLM's streamed answer followed by a Markdown "Sources" list of links that open each note."""

from __future__ import annotations

import logging
from contextlib import closing
from dataclasses import dataclass, replace
from typing import Iterator

import regex

from vaultrag.config.catalogue import DEFAULT_ANSWER_MIN_SCORE
from vaultrag.config.settings import Settings
from vaultrag.service.answering import prompts
from vaultrag.service.llm.base import ChatOptions, LLMBackend, LLMError, Usage
from vaultrag.service.search.filters import Filters, split_inline
from vaultrag.service.search.searcher import SearchResult, Searcher

log = logging.getLogger(__name__)

_ONE_TOKEN_A_CHARACTER = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}"
                                       r"\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}]")
TASK_PREFIX = "### Task:"  # Open WebUI's background tasks (titles, tags, follow-ups): no retrieval for these
SOURCES_HEADING = "\n\n**Sources**\n"  # the answer's last text piece starts with it


@dataclass(frozen=True)
class Source:
    n: int
    path: str
    title: str
    heading: str
    text: str
    score: float
    url: str  # http link on the daemon that redirects into Obsidian (chat UIs only make http links clickable); no names
    obsidian_url: str
    page: int | None = None  # a PDF's page


@dataclass
class Plan:
    """What goes to the LLM for one request, and the excerpts it was given."""

    messages: list[dict]
    sources: list[Source]
    query: str | None  # the standalone search query; None when retrieval was skipped
    reply: str | None = None  # a fixed reply that needs no LLM (nothing relevant in the notes)


def estimate_tokens(text: str) -> int:
    """A cautious token estimate for any LLM (its tokenizer is not at hand): about 3 characters a token, but one a
    character of Chinese, Japanese, Korean, Thai, Lao, Khmer or Myanmar, as LLM tokenizers split those scripts."""
    dense = len(_ONE_TOKEN_A_CHARACTER.findall(text))
    return dense + (len(text) - dense) // 3 + 4


def prefix_within(text: str, tokens: int) -> str:
    """The longest start of `text` (to about a tenth) whose estimate is within `tokens`."""
    cut = min(len(text), max(tokens, 0) * 3)
    while cut and estimate_tokens(text[:cut]) > tokens:
        cut = cut * 9 // 10
    return text[:cut]


def text_of(content) -> str:
    """Message content as plain text: a string, or OpenAI's list of parts (text parts joined, others dropped)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "\n".join(part.get("text", "") for part in content if isinstance(part, dict) and part.get("type") == "text")


def sources_markdown(sources: list[Source]) -> str:
    lines = [f"{s.n}. [{s.heading or s.title}]({s.url})" for s in sources]
    return SOURCES_HEADING + "\n".join(lines) if lines else ""


class Answerer:
    def __init__(self, settings: Settings, searcher: Searcher, backend: LLMBackend):
        self._settings = settings
        self._searcher = searcher
        self._backend = backend

    def plan(self, messages: list[dict], model: str, max_tokens: int | None = None,
             scope: Filters | None = None) -> Plan:
        """Blocking (retrieval, maybe a rewrite call): run it off the event loop. With a `scope`, the excerpts
        come only from the notes inside it."""
        messages = [{"role": "system" if m["role"] == "developer" else m["role"], "content": text_of(m.get("content"))}
                    for m in messages if m["role"] != "tool"]
        question = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        if question.lstrip().startswith(TASK_PREFIX):
            return Plan(messages, [], None)
        query = self._standalone_query(messages, question, model)
        min_score = self._min_score()
        results = [r for r in self._searcher.search(query, self._settings.answer.excerpts, scope=scope)
                   if r.score >= min_score]
        if not results:
            return Plan(messages, [], query, reply=prompts.NOTHING_FOUND)
        question = split_inline(question)[0] or question  # the filters narrowed the search; the model need not see them
        sources = [self._source(n, r) for n, r in enumerate(results, start=1)]
        prompt, given = self._prompt(messages, question, sources, max_tokens)
        return Plan(prompt, given, query)

    def stream(self, plan: Plan, model: str, options: ChatOptions, sources_list: bool = True) -> Iterator[str | Usage]:
        """The answer's text deltas (the LLM's, then the Markdown Sources list), and one Usage at the end. Closing
        this stream early closes the LLM's, which ends its work."""
        if plan.reply is not None:
            yield plan.reply
            yield Usage(0, 0)
            return
        usage = Usage(0, 0)
        with closing(self._backend.chat(model, plan.messages, options, self._settings.llm.context_tokens)) as pieces:
            for piece in pieces:
                if isinstance(piece, Usage):
                    usage = piece
                else:
                    yield piece
        if plan.sources and sources_list:
            yield sources_markdown(plan.sources)
        yield usage

    def _min_score(self) -> float:
        """answer.min_score, else the figure calibrated for the active index's embedding model."""
        if self._settings.answer.min_score != "auto":
            return self._settings.answer.min_score
        model = self._searcher.embedding_model()
        return model.answer_min_score if model is not None else DEFAULT_ANSWER_MIN_SCORE

    def _standalone_query(self, messages: list[dict], question: str, model: str) -> str:
        earlier = [m for m in messages[:-1] if m["role"] in ("user", "assistant") and m["content"]]
        if not earlier or not self._settings.answer.rewrite_followups:
            return question
        conversation = "\n".join(f"{m['role']}: {m['content'][:500]}" for m in earlier[-4:])
        ask = [{"role": "system", "content": prompts.REWRITE_SYSTEM},
               {"role": "user", "content": f"{conversation}\nuser: {question}"}]
        try:
            rewritten = "".join(p for p in self._backend.chat(model, ask, ChatOptions(temperature=0, max_tokens=48),
                                                               self._settings.llm.context_tokens)
                                if isinstance(p, str)).strip().strip('"').splitlines()
        except LLMError as exc:
            log.warning("could not rewrite the follow-up question (%s); searching with the conversation", exc)
            rewritten = []
        last_user = next((m["content"] for m in reversed(earlier) if m["role"] == "user"), "")
        return rewritten[0] if rewritten and rewritten[0] else f"{last_user} {question}"

    def _source(self, n: int, r: SearchResult) -> Source:
        return Source(n, r.path, r.title, r.heading, r.text, r.score, self._searcher.links.web(r.path, r.heading),
                      r.obsidian_url, r.page)

    def _prompt(self, messages: list[dict], question: str, sources: list[Source],
                max_tokens: int | None) -> tuple[list[dict], list[Source]]:
        """System prompts, the conversation trimmed oldest-first to the budget, the question with the excerpts that
        fit; and those excerpts."""
        system = [{"role": "system", "content": prompts.ANSWER_SYSTEM}]
        system += [m for m in messages if m["role"] == "system"]  # the user's own system message is kept
        history = [m for m in messages[:-1] if m["role"] in ("user", "assistant")]
        budget = self._settings.llm.context_tokens - (max_tokens or self._settings.llm.answer_tokens)
        budget -= sum(estimate_tokens(m["content"]) for m in system) + estimate_tokens(question)
        excerpts = list(sources)
        room = int(budget * 0.7)  # most of what is left goes to the excerpts, the rest to the conversation
        while len(excerpts) > 1 and sum(estimate_tokens(s.heading + s.text) for s in excerpts) > room:
            excerpts.pop()  # the lowest-ranked excerpt goes first
        if estimate_tokens(excerpts[0].heading + excerpts[0].text) > room:  # the best one is kept, shortened
            left = room - estimate_tokens(excerpts[0].heading)
            excerpts[0] = replace(excerpts[0], text=prefix_within(excerpts[0].text, left))
        budget -= sum(estimate_tokens(s.heading + s.text) for s in excerpts)
        while history and sum(estimate_tokens(m["content"]) for m in history) > budget:
            history.pop(0)
        blocks = "\n\n".join(f"[{s.n}] {s.heading}\n{s.text}" for s in excerpts)
        final = {"role": "user", "content": f"{prompts.EXCERPTS_INTRO}\n\n{blocks}\n\n{prompts.QUESTION_INTRO} {question}"}
        return system + history + [final], excerpts
