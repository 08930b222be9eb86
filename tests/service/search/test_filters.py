"""Inline filters come out of the question; bad values are errors that name the filter."""

from datetime import date

import pytest

from vaultrag.service.search.filters import FilterError, Filters, make_filters, split_inline


def test_inline_filters_are_taken_out_of_the_question():
    text, filters = split_inline('tag:project when is the launch? path:"Work Notes/" after:2025-01-01 #urgent')
    assert text == "when is the launch? #urgent"
    assert filters == Filters(("project",), "Work Notes/", date(2025, 1, 1))


def test_a_question_without_filters_is_unchanged():
    assert split_inline("what is a tag: in Obsidian?") == ("what is a tag: in Obsidian?", Filters())


def test_bad_values_name_the_filter():
    with pytest.raises(FilterError, match="modified_after: '2025-13-01'"):
        split_inline("after:2025-13-01 plans")
    with pytest.raises(FilterError, match="empty tag"):
        make_filters(tags=["#"])


def test_api_and_inline_filters_combine():
    merged = make_filters(tags=["#home"]).merged(split_inline("tag:garden water")[1])
    assert merged.tags == ("home", "garden")


def test_type_narrows_to_kinds_of_file_and_an_unknown_kind_is_named():
    text, filters = split_inline("type:pdf type:Canvas ferry timetable")
    assert text == "ferry timetable" and filters.kinds == ("pdf", "canvas") and filters
    with pytest.raises(FilterError, match=r"'spreadsheet' is not a kind of file; kinds are note, excalidraw"):
        split_inline("type:spreadsheet budget")
    assert make_filters(kinds=["pdf"]).merged(make_filters(kinds=["image"])).kinds == ("pdf", "image")
