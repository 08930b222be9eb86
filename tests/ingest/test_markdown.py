"""Tests for ingest/markdown.py (with ingest/properties.py and ingest/inline.py): how a note's text becomes a Note."""

from __future__ import annotations

import json

import pytest

from vaultrag.ingest.markdown import PARSER_VERSION, parse_note
from vaultrag.ingest.note import Link, Note, Section


def parse(text: str, path: str = "Work/Meeting notes.md") -> Note:
    return parse_note(path, text)


def texts(note: Note) -> str:
    return "\n".join(section.text for section in note.sections)


def test_parser_version_is_a_positive_int():
    assert isinstance(PARSER_VERSION, int) and PARSER_VERSION >= 1


# --- title and frontmatter ------------------------------------------------------------------------------------------


def test_title_is_the_file_name_without_md():
    note = parse("hello", "Work/Meeting notes.md")
    assert (note.path, note.title) == ("Work/Meeting notes.md", "Meeting notes")
    assert parse("", "v1.2 plan.md").title == "v1.2 plan"


def test_frontmatter_tags_and_aliases_as_lists():
    note = parse("---\ntags: [project/alpha, '#Review']\naliases:\n  - Alpha\n  - The A\n---\nbody\n")
    assert note.tags == ("project/alpha", "Review")
    assert note.aliases == ("Alpha", "The A")
    assert note.sections == (Section((), "body"),)


@pytest.mark.parametrize("value", ["a, b", "a b", "'#a #b'", "a,b"])
def test_frontmatter_tags_as_a_string_split_on_commas_and_spaces(value):
    assert parse(f"---\ntags: {value}\n---\n").tags == ("a", "b")


def test_frontmatter_singular_keys_tag_and_alias():
    note = parse("---\ntag: solo\nalias: Only one\n---\n")
    assert (note.tags, note.aliases) == (("solo",), ("Only one",))


def test_alias_string_is_one_alias_unless_it_has_commas():
    assert parse("---\naliases: Steph Ango\n---\n").aliases == ("Steph Ango",)
    assert parse("---\naliases: Steph, S. Ango\n---\n").aliases == ("Steph", "S. Ango")
    assert parse("---\naliases: ['Smith, John']\n---\n").aliases == ("Smith, John",)  # a list item stays whole


def test_empty_list_items_are_dropped_and_other_scalars_become_strings():
    note = parse("---\ntags:\n  - \n  - 2024\n  - x\naliases:\n  -\n  - 2023-05-01\n  - 42\n---\n")
    assert note.tags == ("2024", "x")
    assert note.aliases == ("2023-05-01", "42")


def test_properties_are_json_safe():
    note = parse("---\ncreated: 2024-01-05\nseen: 2024-01-05 10:30:00\nrating: 4.5\ndone: true\nnone:\n---\n")
    assert note.properties == {
        "created": "2024-01-05",
        "seen": "2024-01-05T10:30:00",
        "rating": 4.5,
        "done": True,
        "none": None,
    }
    json.dumps(note.properties)
    assert note.raw_frontmatter is None and note.warnings == ()


def test_links_in_frontmatter_values_count_as_links_and_come_first():
    text = '---\ncategories: ["[[Books]]"]\nauthor: "[[Steph Ango]]"\nmeta:\n  seen_in: [["[[Deep|d]]"]]\n---\nSee [[Body]].\n'
    assert parse(text).links == (
        Link("Books"),
        Link("Steph Ango"),
        Link("Deep", alias="d"),
        Link("Body"),
    )


def test_invalid_yaml_keeps_the_note_and_the_text():
    text = "---\ntitle: Plan\naliases: - @name\ntags: [a, b]\n---\n# Body\nStill here #inline\n"
    note = parse(text)
    assert note.properties == {}
    assert note.raw_frontmatter == "title: Plan\naliases: - @name\ntags: [a, b]\n"
    assert len(note.warnings) == 1
    assert "frontmatter is not valid YAML" in note.warnings[0] and "line 3" in note.warnings[0]
    assert note.sections == (
        Section((), "title: Plan\naliases: - @name\ntags: [a, b]"),  # still searchable
        Section(("Body",), "Still here #inline"),
    )
    # best-effort salvage of the simple entries
    assert note.tags == ("a", "b", "inline")
    assert note.aliases == ("@name",)


@pytest.mark.parametrize("placeholder", ["created: {{date}}", "title: {{title}}"])
def test_template_placeholders_are_reported_not_fatal(placeholder):
    note = parse(f"---\n{placeholder}\ntags: meeting\n---\nIntro text\n")
    assert note.properties == {}
    assert note.raw_frontmatter == f"{placeholder}\ntags: meeting\n"
    assert "line 2" in note.warnings[0] and "{{date}}" in note.warnings[0]
    assert note.tags == ("meeting",)
    assert note.sections == (Section((), f"{placeholder}\ntags: meeting\n\nIntro text"),)


def test_impossible_date_is_invalid_frontmatter_not_a_crash():
    note = parse("---\ndue: 2024-02-30\n---\nx")
    assert note.properties == {} and note.raw_frontmatter == "due: 2024-02-30\n"
    assert "frontmatter is not valid YAML" in note.warnings[0]


def test_yaml_alias_bomb_is_kept_as_text_at_once():
    anchors = "".join(f"l{n + 1}: &l{n + 1} [{', '.join([f'*l{n}'] * 9)}]\n" for n in range(8))
    text = f"---\nl0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n{anchors}tags: [x]\n---\nBody text\n"
    note = parse(text)  # its time (refused before expanding, so at once) is in bench/parse_bench.py
    assert note.properties == {} and note.tags == ("x",)
    assert "aliases expand to more than 100,000 values" in note.warnings[0]
    assert note.sections[0].text.endswith("Body text")


def test_frontmatter_that_is_not_a_mapping_is_kept_as_text():
    note = parse("---\n- just\n- a list\n---\nbody")
    assert note.properties == {} and note.raw_frontmatter == "- just\n- a list\n"
    assert "key: value" in note.warnings[0]


def test_unclosed_frontmatter_is_read_as_text_with_a_warning():
    note = parse("---\ntags: a\nbody #real\n")
    assert note.properties == {} and note.tags == ("real",)
    assert "never closed" in note.warnings[0]


def test_note_with_only_frontmatter():
    note = parse("---\ntags: [a]\naliases: [A]\n---")
    assert (note.tags, note.aliases, note.sections, note.warnings) == (("a",), ("A",), (), ())
    assert parse("---\n---\n") == Note(path="Work/Meeting notes.md", title="Meeting notes")


# --- tags -----------------------------------------------------------------------------------------------------------


def test_inline_tags_and_nested_tags():
    note = parse("#start of line, mid #project/alpha-2 and (#paren),#comma and #under_score.\n")
    assert note.tags == ("start", "project/alpha-2", "paren", "comma", "under_score")


def test_tags_in_any_script():
    assert parse("#中文标签 #ภาษาไทย #العربية #日本語/メモ\n").tags == ("中文标签", "ภาษาไทย", "العربية", "日本語/メモ")


def test_numbers_only_is_not_a_tag():
    assert parse("In #1984 and #2024/05 but #y2k\n").tags == ("2024/05", "y2k")


@pytest.mark.parametrize("colour", ["#fff", "#FFF0", "#ff0000", "#FF00FF80"])
def test_css_hex_colours_are_not_tags(colour):
    assert parse(f"color: {colour}; and #real\n").tags == ("real",)


def test_hex_looking_words_of_other_lengths_are_tags():
    assert parse("#abcde #cafes\n").tags == ("abcde", "cafes")


def test_headings_are_not_tags():
    note = parse("# Heading\n## Sub heading\n###### Six\n")
    assert note.tags == ()


def test_url_fragments_and_link_anchors_are_not_tags():
    text = "See https://x.com/page#section and [link](page.md#anchor) and [top](#anchor) and C# or a#b\n"
    assert parse(text).tags == ()


def test_tags_in_code_are_not_tags():
    text = "```python\n#include <x>\nx = 1  # comment #nope\n```\n~~~\n#nope2\n~~~\nUse `#nope3` and #yes\n"
    assert parse(text).tags == ("yes",)


def test_tags_keep_first_spelling_and_frontmatter_comes_first():
    note = parse("---\ntags: [Alpha]\n---\n#beta #ALPHA #Beta #gamma\n")
    assert note.tags == ("Alpha", "beta", "gamma")


# --- links ----------------------------------------------------------------------------------------------------------


def test_wikilink_forms():
    text = (
        "[[Note]] [[Note|alias]] [[Note#Heading]] [[Note#^block1]] [[Note#Heading|shown]] "
        "[[Folder/Other.md]] [[Note]]\n"
    )
    assert parse(text).links == (
        Link("Note"),
        Link("Note", alias="alias"),
        Link("Note", subpath="Heading"),
        Link("Note", subpath="^block1"),
        Link("Note", subpath="Heading", alias="shown"),
        Link("Folder/Other"),
    )


def test_table_escaped_pipe_separates_the_alias():
    note = parse("| Who | Link |\n| --- | --- |\n| me | [[Note\\|alias]] |\n")
    assert note.links == (Link("Note", alias="alias"),)
    assert "| me | alias |" in texts(note)


def test_embeds_of_notes_images_and_bases():
    text = "![[Other note]]\n![[pic.png]]\n![[pic.png|300]]\n![[Movies.base]]\n![[Movies.base#View]]\n"
    assert parse(text).links == (
        Link("Other note", embed=True),
        Link("pic.png", embed=True),
        Link("pic.png", alias="300", embed=True),
        Link("Movies.base", embed=True),
        Link("Movies.base", subpath="View", embed=True),
    )


def test_markdown_links_to_local_notes():
    text = "[text](Other%20note.md) [sec](<Folder/Some note.md#Part>) ![alt](img/pic.png) [web](https://x.com/a.md)\n"
    assert parse(text).links == (
        Link("Other note", alias="text"),
        Link("Folder/Some note", subpath="Part", alias="sec"),
        Link("img/pic.png", alias="alt", embed=True),
    )


def test_links_in_code_are_not_links():
    text = "```\n[[In fence]]\n```\nand `[[In code]]` but [[Real]]\n"
    assert parse(text).links == (Link("Real"),)


def test_links_inside_this_note_are_not_outgoing():
    note = parse("Jump to [[#Setup]].\n")
    assert note.links == ()
    assert texts(note) == "Jump to Setup."


# --- readable section text ------------------------------------------------------------------------------------------


def test_wikilinks_are_rewritten_readably():
    text = "A [[Note]], B [[Note|alias]], C [[Note#Heading]], D [[Note#^abc]], E [[Note#Heading|shown]].\n"
    assert texts(parse(text)) == "A Note, B alias, C Note > Heading, D Note, E shown."


def test_embeds_are_rewritten_to_their_names():
    text = "![[pic.png|300]] ![[diagram.png|The diagram]] ![[Movies.base#View]] ![[Other note]]\n"
    assert texts(parse(text)) == "pic.png The diagram Movies.base > View Other note"


def test_local_markdown_links_become_their_text_and_web_links_stay():
    text = "[the note](Other%20note.md) and [site](https://x.com/page#s)\n"
    assert texts(parse(text)) == "the note and [site](https://x.com/page#s)"


def test_block_ids_are_hidden_from_text():
    assert texts(parse("A paragraph ^para-1\n\n^table-id\n")) == "A paragraph"


# --- comments -------------------------------------------------------------------------------------------------------


def test_inline_comments_are_removed_with_their_tags_and_links():
    note = parse("Visible %%secret #hidden [[Hidden]]%% text #shown\n")
    assert texts(note) == "Visible  text #shown"
    assert (note.tags, note.links) == (("shown",), ())


def test_block_comments_are_removed():
    note = parse("before\n%%\nprivate #hidden\n[[Hidden]]\n# Not a heading\n%%\nafter\n")
    assert note.sections == (Section((), "before\nafter"),)
    assert (note.tags, note.links) == ((), ())


def test_percent_signs_in_code_are_literal():
    note = parse("```\na %% b\n```\nuse `%%` here #tag\n")
    assert texts(note) == "```\na %% b\n```\nuse `%%` here #tag"
    assert note.tags == ("tag",)


def test_unclosed_comment_hides_the_rest_with_a_warning():
    note = parse("shown\n%% forgot to close\n#hidden\n")
    assert texts(note) == "shown"
    assert note.warnings == ("unclosed %% comment at line 2 hides the rest of the note",)


# --- callouts -------------------------------------------------------------------------------------------------------


def test_callouts_keep_type_title_and_text():
    text = "> [!tip] Title here\n> First line [[Link]]\n> second #tag\n\nAfter\n"
    note = parse(text)
    assert texts(note) == "Tip: Title here\nFirst line Link\nsecond #tag\n\nAfter"
    assert (note.tags, note.links) == (("tag",), (Link("Link"),))


def test_foldable_callouts_and_callouts_without_title():
    assert texts(parse("> [!warning]- Foldable\n> hidden body\n")) == "Warning: Foldable\nhidden body"
    assert texts(parse("> [!NOTE]+\n> body\n")) == "Note:\nbody"


def test_nested_callouts():
    text = "> [!info] Outer\n> outer text\n> > [!question] Inner\n> > inner text\n"
    assert texts(parse(text)) == "Info: Outer\nouter text\nQuestion: Inner\ninner text"


def test_plain_quotes_are_left_alone():
    assert texts(parse("> just a quote\n> more\n")) == "> just a quote\n> more"


# --- headings and sections ------------------------------------------------------------------------------------------


def test_heading_hierarchy():
    text = "lead\n# A\na\n## B\nb\n#### D\nd\n# C\nc\n### E\ne\n"
    assert parse(text).sections == (
        Section((), "lead"),
        Section(("A",), "a"),
        Section(("A", "B"), "b"),
        Section(("A", "B", "D"), "d"),
        Section(("C",), "c"),
        Section(("C", "E"), "e"),
    )


def test_empty_sections_are_dropped_but_stay_in_the_breadcrumb():
    assert parse("# Top\n## Middle\n### Leaf\ntext\n").sections == (Section(("Top", "Middle", "Leaf"), "text"),)


def test_heading_text_is_cleaned():
    text = "## **Bold** _it_ [[Link|Shown]] `code` ==mark== ##\nx\n   ### Indented ###\ny\n#### Learning C#\nz\n"
    assert [section.headings for section in parse(text).sections] == [
        ("Bold it Shown code mark",),
        ("Bold it Shown code mark", "Indented"),
        ("Bold it Shown code mark", "Indented", "Learning C#"),
    ]


def test_lines_that_are_not_headings():
    text = "#tag line\n####### seven\n    # four spaces\n#NoSpace\n"
    note = parse(text)
    assert note.sections == (Section((), text.rstrip("\n")),)
    assert note.tags == ("tag", "NoSpace")


def test_headings_in_code_fences_are_not_headings():
    text = "# Real\n```bash\n# a shell comment\n```\n~~~~\n## also code\n~~~~\n"
    assert parse(text).sections == (Section(("Real",), "```bash\n# a shell comment\n```\n~~~~\n## also code\n~~~~"),)


# --- code fences ----------------------------------------------------------------------------------------------------


def test_code_fences_are_kept_verbatim():
    text = "Intro\n```python\ndef f():\n    return [[1]]  # [[x]] %% y\n```\nOutro\n"
    assert texts(parse(text)) == text.rstrip("\n")


def test_closing_fence_must_match_char_and_length():
    text = "````\n```\n~~~\nstill code #no\n````\n#yes\n"
    note = parse(text)
    assert note.tags == ("yes",)
    assert texts(note) == "````\n```\n~~~\nstill code #no\n````\n#yes"


def test_unclosed_fence_is_reported_and_does_not_swallow_the_note():
    text = "---\ntags: [a]\n---\nIntro\n```python\nx = 1\n# Later heading\nmore #after\n"
    note = parse(text)
    assert note.warnings == ("unclosed code fence at line 5; treated as text",)
    assert note.sections == (Section((), "Intro\n```python\nx = 1"), Section(("Later heading",), "more #after"))
    assert note.tags == ("a", "after")


def test_fences_inside_callouts():
    text = "> [!example] Code\n> ```c\n> #include <stdio.h>\n> ```\nafter #real\n"
    note = parse(text)
    assert texts(note) == "Example: Code\n```c\n#include <stdio.h>\n```\nafter #real"
    assert note.tags == ("real",)


def test_fence_inside_a_callout_ends_with_the_callout():
    note = parse("> [!example]\n> ```\n> code\nafter #real\n")
    assert note.warnings == ()
    assert texts(note) == "Example:\n```\ncode\nafter #real"
    assert note.tags == ("real",)


# --- robustness -----------------------------------------------------------------------------------------------------


def test_crlf_line_endings():
    note = parse("---\r\ntags: [a]\r\n---\r\n# Title\r\nline one\r\nline two [[Link]]\r\n")
    assert note.tags == ("a",)
    assert note.sections == (Section(("Title",), "line one\nline two Link"),)
    assert "\r" not in texts(note)


def test_chinese_and_thai_sections_are_kept_intact():
    text = "# 会议记录\n今天讨论了项目进度。下一步：完成设计。\n## ภาษาไทย\nสวัสดีครับ วันนี้อากาศดีมาก 😀\n"
    assert parse(text).sections == (
        Section(("会议记录",), "今天讨论了项目进度。下一步：完成设计。"),
        Section(("会议记录", "ภาษาไทย"), "สวัสดีครับ วันนี้อากาศดีมาก 😀"),
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n\n\n",
        "---",
        "---\n",
        "#" * 50 + " deep",
        "\n".join("#" * level + " H" for level in range(1, 51)),
        "x" * 10_000,
        "`" * 10_000,
        "%%" * 5_000,
        "[[" * 5_000 + "]]",
        "> " * 2_000 + "[!x] deep",
        "".join("> " * depth + "[!a]\n" for depth in range(200)),
        "---\na: &a [*a]\n---\nself-referencing YAML",
        "---\n" + "[" * 5_000 + "\n---\n",
        "مرحبا بالعالم #وسم 👋🏽 [[ملاحظة]]",
        "```\n" * 1001,
        "\r\r\n\r",
    ],
)
def test_never_raises(text):
    note = parse(text)
    assert isinstance(note, Note)
    assert all(isinstance(warning, str) for warning in note.warnings)


@pytest.mark.parametrize(
    "text",
    [
        "# a" + " " * 50_000 + "b",
        "a" + " " * 50_000 + "b ^",
        "x" + "\n" * 50_000 + "y",
        "> " * 50_000 + "```",
        "[a](b " * 20_000,
        "".join("`" * length + "x" for length in range(1, 1_000)),
        "%% `" * 20_000,
    ],
)
def test_pathological_lines_parse_to_a_note(text):
    """These once took quadratic or worse time; bench/parse_bench.py times them (each well under a second)."""
    note = parse(text)
    assert isinstance(note, Note) and all(isinstance(warning, str) for warning in note.warnings)


def test_a_two_megabyte_note_keeps_every_section_link_and_tag():
    """How long it takes is measured in bench/parse_bench.py."""
    block = "## Part\nSome words with a [[Link|alias]] and #tag and `code`.\n```\ncode\n```\n> [!note] N\n> quoted\n\n"
    text = block * (2_000_000 // len(block))
    note = parse(text)
    assert len(note.sections) == text.count("## Part")
    assert [link.target for link in note.links] == ["Link"] and note.tags == ("tag",)  # each once, as before
