"""What every command shares: the common options, loading the settings (and logging), the indexing progress bar."""

from __future__ import annotations

import logging
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from vaultrag.config.log_setup import LOG_FORMAT, quiet_libraries
from vaultrag.config.settings import Settings, load_settings

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

ConfigOpt = Annotated[Optional[Path], typer.Option("--config", help="Settings file (TOML).", show_default=False)]
VaultOpt = Annotated[Optional[Path], typer.Option("--vault", help="The Obsidian vault folder.", show_default=False)]
DataDirOpt = Annotated[Optional[Path], typer.Option("--data-dir", help="Where the index lives.", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


class SearchMode(str, Enum):
    hybrid = "hybrid"
    dense = "dense"
    bm25 = "bm25"


def settings_for(config: Path | None, vault: Path | None, data_dir: Path | None, resolve: bool = False) -> Settings:
    """The settings; with `resolve`, `auto` models chosen for this vault and machine (and the choice logged)."""
    settings = load_settings(config, {"vault.path": str(vault) if vault else None,
                                      "data.dir": str(data_dir) if data_dir else None})
    logging.basicConfig(level=settings.log.level.upper(), stream=sys.stderr, format=LOG_FORMAT)
    quiet_libraries()
    if resolve:
        from vaultrag.service.ops.model_choice import resolve_models

        settings, _ = resolve_models(settings)
    return settings


def index_with_progress(settings: Settings, quiet: bool):
    """Sync the vault of `settings`, with a progress bar on a terminal."""
    from vaultrag.ingest.pipeline import sync_vault
    from vaultrag.ingest.sync import SyncProgress

    with Progress(TextColumn("indexing"), BarColumn(), MofNCompleteColumn(), TextColumn("files"),
                  TextColumn("{task.fields[chunks]} chunks, {task.fields[rate]}"), TimeElapsedColumn(),
                  TextColumn("ETA"), TimeRemainingColumn(), console=err, transient=True,
                  disable=quiet or not err.is_terminal) as bar:
        task = bar.add_task("index", total=None, chunks=0, rate="")

        def progress(p: SyncProgress) -> None:
            elapsed = bar.tasks[0].elapsed or 0
            rate = f"{p.chunks_written / elapsed:.0f} chunks/s" if elapsed > 0 else ""
            bar.update(task, completed=p.files_done, total=p.files_todo, chunks=p.chunks_written, rate=rate)

        return sync_vault(settings, progress)
