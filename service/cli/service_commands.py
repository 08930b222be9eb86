"""`vaultrag service install|uninstall|status`: the daemon as a user service, through service.ops.system_service."""

from __future__ import annotations

import json
import os
import shlex
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Optional

import typer

from vaultrag.config.settings import default_config_file, load_settings
from vaultrag.service.ops.system_service import LEGACY_COMMAND, install, logs_hint, status, uninstall, unit_path

service_app = typer.Typer(no_args_is_help=True, help="Run the daemon as a user service that starts at login "
                                                     "(systemd --user on Linux, launchd on macOS).")
VaultOpt = Annotated[Optional[Path], typer.Option("--vault", show_default=False,
                                                  help="The Obsidian vault folder (default: the configured one).")]
ConfigOpt = Annotated[Optional[Path], typer.Option("--config", help="Settings file (TOML).", show_default=False)]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Print the file and the commands; change nothing.")]


@service_app.command("install")
def install_command(vault: VaultOpt = None, config: ConfigOpt = None, dry_run: DryRunOpt = False):
    """Write the service file, enable it and start the daemon now and at every login."""
    vault_path = load_settings(config, {"vault.path": str(vault) if vault else None}).vault_path
    if config is None and default_config_file().is_file():
        config = default_config_file()  # the service may not see this shell's XDG_CONFIG_HOME: name the file
    plan = install(vault_path, config, dry_run=dry_run)
    if dry_run:
        typer.echo(plan.text, nl=False)
        typer.echo(f"(dry run) would write {plan.path}, then run:", err=True)
        for command in plan.commands:
            typer.echo(f"  {shlex.join(command)}", err=True)
        return
    typer.echo(f"installed {plan.path}: the daemon runs now and at every login; logs: {logs_hint(sys.platform)}")
    if plan.legacy:
        typer.echo(f"rewrote the service file of an earlier release (it ran `python {LEGACY_COMMAND}`, which this "
                   "release no longer has); it now runs the installed `vaultrag` command", err=True)
    if any(name.startswith("VAULTRAG_") for name in os.environ):
        typer.echo("note: the service does not see this shell's VAULTRAG_* variables; put them in the config file",
                   err=True)


@service_app.command("uninstall")
def uninstall_command():
    """Stop the daemon, disable it and remove the service file (nothing to do if it is not installed)."""
    removed = uninstall()
    typer.echo(f"removed {removed}" if removed else f"not installed (no {unit_path()})")


@service_app.command("status")
def status_command(as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False):
    """Whether the service is installed, enabled and running, and where its logs go."""
    found = status()
    if as_json:
        typer.echo(json.dumps(asdict(found), ensure_ascii=False, indent=2))
        return
    typer.echo(f"{found.path}: {'installed' if found.installed else 'not installed'}\n"
               f"enabled: {found.enabled}\nactive: {found.active}\nlogs: {found.logs}")
    if found.legacy:
        typer.echo(f"outdated: the file runs `python {LEGACY_COMMAND}`, which this release no longer has; "
                   "run `vaultrag service install` to rewrite it")
