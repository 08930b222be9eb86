"""What each tool is called, what it does and what it takes: read by the models that use them (MCP, OpenAPI)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

NotePath = Field(min_length=1, max_length=1000, description="The note's path inside the vault, as search_notes, "
                 "recent_notes and related_notes return it, e.g. \"Projects/Garden.md\".")


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SearchNotesInput(_Input):
    query: str = Field(min_length=1, max_length=4000, description="What to look for, in plain words (a question "
                       "or keywords). Inline filters work too: tag:project path:Work/ after:2025-01-31.")
    k: int = Field(default=8, ge=1, le=50, description="How many results.")
    tags: list[str] = Field(default_factory=list, max_length=50,
                            description="Only notes with any of these tags (nested tags count), without '#'.")
    path_prefix: str = Field(default="", max_length=1000, description="Only notes under this folder, e.g. \"Work/\".")
    modified_after: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$",
                                       description="Only notes modified on or after this day, YYYY-MM-DD.")
    mode: Literal["hybrid", "dense", "bm25"] | None = Field(
        default=None, description="hybrid (meaning and words, the default), dense (meaning only) or bm25 (exact words).")


class ReadNoteInput(_Input):
    path: str = NotePath
    heading: str | None = Field(default=None, max_length=1000, description="Only this section (with its "
                                "subsections): a heading of the note, e.g. \"Setup\", or a path of headings "
                                "\"Setup > On Linux\" as search results show them.")


class RelatedNotesInput(_Input):
    path: str = NotePath
    k: int = Field(default=10, ge=1, le=50, description="How many notes.")


class ListTagsInput(_Input):
    pass


class RecentNotesInput(_Input):
    n: int = Field(default=10, ge=1, le=100, description="How many notes.")
    path_prefix: str = Field(default="", max_length=1000, description="Only notes under this folder, e.g. \"Daily/\".")


class WriteInput(_Input):
    path: str = Field(min_length=1, max_length=1000, description="The note's path inside the vault; it must be "
                      "inside the folder writes are allowed in (said in this tool's description). \".md\" is added "
                      "when missing.")
    text: str = Field(min_length=1, max_length=200_000, description="Markdown to write.")


@dataclass(frozen=True)
class ToolSpec:
    name: str  # the MCP tool name and the OpenAPI operationId: never renamed
    title: str
    description: str
    input: type[_Input]
    writes: bool = False


TOOLS = (
    ToolSpec("search_notes", "Search notes",
             "Search the user's Obsidian notes by meaning and by words (hybrid search). Returns the best matching "
             "passages, best first, each with the note's path, title, heading, text, a relevance score and an "
             "obsidian:// link. Use it first for any question about the user's notes; then read_note for a whole "
             "note or section.", SearchNotesInput),
    ToolSpec("read_note", "Read a note",
             "Read one note of the user's vault: its properties (frontmatter) and its Markdown text, or only one "
             "section when a heading is given. Long notes are cut with a \"[truncated ...]\" marker: then read the "
             "sections you need, listed in `headings`. A PDF reads as its text page by page (\"--- Page 3 ---\"; "
             "heading \"Page 3\" reads one page), a Canvas board or Excalidraw drawing as its text. Only notes in "
             "the index can be read.", ReadNoteInput),
    ToolSpec("related_notes", "Related notes",
             "The notes most like a given note, by the meaning of its text, plus the notes it links to and that "
             "link to it. Use it to explore around a note.", RelatedNotesInput),
    ToolSpec("list_tags", "List tags", "Every tag used in the vault, with how many notes carry it, most used first.",
             ListTagsInput),
    ToolSpec("recent_notes", "Recent notes",
             "The most recently modified notes, newest first, optionally only under one folder.", RecentNotesInput),
    ToolSpec("append_to_note", "Append to a note",
             "Append Markdown to the end of an existing note in the folder {folder}. Nothing else can be written.",
             WriteInput, writes=True),
    ToolSpec("create_note", "Create a note",
             "Create a new note in the folder {folder} (for example a summary of this chat). Never overwrites: a "
             "note that exists already is refused (use append_to_note).", WriteInput, writes=True),
)


WRITING_TOOLS = {t.name for t in TOOLS if t.writes}


def enabled_tools(allow_writes: bool, write_folder: str) -> list[ToolSpec]:
    """The tools offered: the writing ones only with mcp.allow_writes, their descriptions naming the folder."""
    return [ToolSpec(t.name, t.title, t.description.format(folder=f'"{write_folder}"'), t.input, t.writes)
            for t in TOOLS if allow_writes or not t.writes]
