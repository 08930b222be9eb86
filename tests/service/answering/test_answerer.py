"""How a question becomes a prompt: excerpts numbered, the user's system message kept, history trimmed oldest-first."""

from __future__ import annotations

import httpx
import pytest

from vaultrag.config.settings import load_settings
from vaultrag.service.answering.answerer import Answerer, Source, open_url, sources_markdown, text_of


def source(n: int, text: str = "excerpt text") -> Source:
    return Source(n, f"Notes/N{n}.md", f"N{n}", f"N{n} > Part", text, 0.9, f"http://h/open/Notes/N{n}.md", "obsidian://x")


def answerer(context_tokens: int = 2048, answer_tokens: int = 256) -> Answerer:
    settings = load_settings(overrides={"llm.context_tokens": context_tokens, "llm.answer_tokens": answer_tokens},
                             environ={})
    return Answerer(settings, searcher=None, backend=None)  # _prompt needs neither: it only arranges text


def test_message_content_as_string_or_parts():
    assert text_of("plain") == "plain"
    assert text_of([{"type": "text", "text": "a"}, {"type": "image_url", "image_url": {"url": "x"}},
                    {"type": "text", "text": "b"}]) == "a\nb"
    assert text_of(None) == ""


def test_sources_link_to_the_daemon_with_the_heading():
    assert open_url("http://127.0.0.1:8765", "Home/My Net.md", "My Net > Setup > Router") == \
        "http://127.0.0.1:8765/open/Home/My%20Net.md?heading=Router"
    assert open_url("http://h", "a.md", "a") == "http://h/open/a.md"
    assert sources_markdown([source(1), source(2)]) == \
        "\n\n**Sources**\n1. [N1 > Part](http://h/open/Notes/N1.md)\n2. [N2 > Part](http://h/open/Notes/N2.md)"


def test_prompt_numbers_excerpts_and_keeps_the_users_system_message():
    messages = [{"role": "system", "content": "Answer like a pirate."}, {"role": "user", "content": "Where is it?"}]
    prompt, given = answerer()._prompt(messages, "Where is it?", [source(1, "in the shed"), source(2, "blue box")], None)
    assert [m["role"] for m in prompt] == ["system", "system", "user"]
    assert "Cite the excerpts" in prompt[0]["content"] and prompt[1]["content"] == "Answer like a pirate."
    assert "[1] N1 > Part\nin the shed" in prompt[-1]["content"] and "[2] N2 > Part\nblue box" in prompt[-1]["content"]
    assert prompt[-1]["content"].endswith("Question: Where is it?")
    assert [s.n for s in given] == [1, 2]


def long_conversation() -> list[dict]:
    """40 turns of about 310 characters a message, then the question."""
    turns = []
    for i in range(40):
        turns += [{"role": "user", "content": f"question {i} " + "word " * 60},
                  {"role": "assistant", "content": f"answer {i} " + "word " * 60}]
    return turns + [{"role": "user", "content": "last question"}]


def test_history_is_trimmed_oldest_first_to_fit_the_context():
    messages = long_conversation()
    prompt, _ = answerer(context_tokens=2048, answer_tokens=256)._prompt(messages, "last question", [source(1)], None)
    history = prompt[1:-1]
    assert 0 < len(history) < 80
    assert history == messages[-1 - len(history):-1]  # the newest turns stay, unchanged and in order


@pytest.mark.slow
def test_the_trimmed_prompt_fits_the_context_in_a_real_llms_tokens(llama_server):
    """The prompt as the LLM sees it (chat template applied by llama.cpp, counted by SmolLM2's own tokenizer)
    leaves room for the answer, and the trimming fills more than half of the rest (1,167 of 1,792 tokens today)."""
    prompt, _ = answerer(context_tokens=2048, answer_tokens=256)._prompt(long_conversation(), "last question",
                                                                         [source(1)], None)
    root = llama_server.removesuffix("/v1")
    text = httpx.post(f"{root}/apply-template", json={"messages": prompt}, timeout=30).json()["prompt"]
    tokens = len(httpx.post(f"{root}/tokenize", json={"content": text}, timeout=30).json()["tokens"])
    assert (2048 - 256) // 2 < tokens <= 2048 - 256


def test_excerpts_that_do_not_fit_are_dropped_lowest_ranked_first():
    big = [source(n, "long text " * 400) for n in range(1, 7)]
    prompt, given = answerer(context_tokens=2048, answer_tokens=256)._prompt(
        [{"role": "user", "content": "q"}], "q", big, None)
    assert 0 < len(given) < 6 and [s.n for s in given] == list(range(1, len(given) + 1))
    assert f"[{len(given) + 1}]" not in prompt[-1]["content"]
