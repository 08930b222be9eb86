"""Errors of the tools: each says what was wrong with the call and how to make a good one."""

from __future__ import annotations

from vaultrag.config.errors import VaultragError


class ToolFailure(VaultragError):
    """A tool call that cannot be done as asked; the message is meant for the model that made it."""


class BadToolInput(ToolFailure):
    """An argument is missing or has a bad value; the message names it."""


class UnknownTool(ToolFailure):
    """No tool of this name is offered."""


class NoteNotFound(ToolFailure):
    """No note with this path is in the index (or the heading is not in the note)."""


class WritesDisabled(ToolFailure):
    """Writing is off (mcp.allow_writes = false)."""


class WriteRefused(ToolFailure):
    """A write outside mcp.write_folder, or to a path that cannot be a note."""


class NoteExists(ToolFailure):
    """create_note on a path that already exists: writes never overwrite."""


class DaemonNotRunning(VaultragError):
    """`vaultrag mcp` found no daemon to talk to."""
