"""Run the daemon as a per-user service that starts at login: a systemd user unit on Linux, a LaunchAgent on macOS.

`render` fills the templates below with the installed `vaultrag` command and absolute paths; `install`, `uninstall`
and `status` write or remove the file and drive `systemctl --user` or `launchctl` (the commands:
service.cli.service_commands).
The templates live here rather than as package data, so every kind of install finds them; systemd/vaultrag.service
and launchd/com.vaultrag.daemon.plist at the top of the repository are their output for example paths (a test keeps
them equal), for readers and for installing by hand.
"""

from __future__ import annotations

import os
import platform as host
import plistlib
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from vaultrag.config.errors import VaultragError

LABEL = "com.vaultrag.daemon"
# Units written before vaultrag was one `vaultrag` package ran this module, which no longer exists: install rewrites them
LEGACY_COMMAND = "-m service.cli"
UNIT = "vaultrag.service"
SYSTEMD_UNIT = """\
# vaultrag as a systemd user service: it starts at login and restarts if it fails; logs go to the journal.
# Written by `vaultrag service install`. By hand: fix the paths in ExecStart=, copy this file to
# ~/.config/systemd/user/vaultrag.service, then run
#   systemctl --user daemon-reload && systemctl --user enable --now vaultrag.service
# Logs: journalctl --user -u vaultrag -f    To run without being logged in: loginctl enable-linger $USER
# No After=network.target: a user unit cannot wait for system units, and the daemon only uses loopback.

[Unit]
Description=vaultrag: local search and answers over {vault}

[Service]
Type=simple
ExecStart={exec_start}
WorkingDirectory=~
Environment=PYTHONUNBUFFERED=1
Restart=on-failure
RestartSec=5
KillSignal=SIGTERM
# The daemon exits within 10 s of SIGTERM.
TimeoutStopSec=15

[Install]
WantedBy=default.target
"""
PLIST_COMMENT = """\
<!-- vaultrag as a launchd LaunchAgent: it starts at login and restarts if it fails.
     Written by `vaultrag service install`. By hand: fix the paths, copy this file to
     ~/Library/LaunchAgents/com.vaultrag.daemon.plist, then run
       launchctl bootstrap gui/$(id -u) ~/Library/LaunchAgents/com.vaultrag.daemon.plist -->
"""
NO_SYSTEMD = "this system does not run systemd; start `vaultrag serve --vault PATH` from your own startup scripts"
NO_USER_BUS = ("systemctl --user is not available (no user session): log in (desktop or SSH) as this user, "
               "or run `loginctl enable-linger $USER`, then try again")


class ServiceError(VaultragError):
    """The user service could not be installed, removed or queried; the message names the command and the fix."""


@dataclass(frozen=True)
class Plan:
    """What `install` writes and runs (or, for a dry run, would)."""
    path: Path
    text: str
    commands: list[list[str]]
    legacy: bool = False  # it replaces a file from an earlier release that cannot start this one


@dataclass(frozen=True)
class ServiceStatus:
    platform: str
    path: str
    installed: bool     # the unit or plist file exists
    enabled: str        # systemd: `is-enabled` (enabled, disabled, ...); launchd: loaded / not loaded
    active: str         # systemd: `is-active` (active, failed, inactive, ...); launchd: its state (running, ...)
    logs: str
    legacy: bool = False  # the file is an earlier release's, which cannot start this one: run `service install`


def _kind(platform: str) -> str:
    if platform.startswith("linux"):
        return "systemd"
    if platform == "darwin":
        return "launchd"
    raise ServiceError(f"`vaultrag service` knows systemd (Linux) and launchd (macOS), not {platform}; "
                       "start `vaultrag serve --vault PATH` from your own startup scripts")


def unit_path(platform: str = sys.platform) -> Path:
    """Where the service file goes: the systemd user unit folder (honouring XDG_CONFIG_HOME) or LaunchAgents."""
    if _kind(platform) == "launchd":
        return Path.home() / "Library" / "LaunchAgents" / f"{LABEL}.plist"
    xdg = os.environ.get("XDG_CONFIG_HOME", "")
    return (Path(xdg) if os.path.isabs(xdg) else Path.home() / ".config") / "systemd" / "user" / UNIT


def installed_command() -> Path:
    """The `vaultrag` console script of this installation: beside the interpreter, in the venv's (or pipx's) bin."""
    return Path(sys.executable).with_name("vaultrag.exe" if sys.platform == "win32" else "vaultrag")


def render(platform: str, program: Path, vault: Path, config: Path | None) -> tuple[Path, str]:
    """The service file's path and text, running `<program> serve` on absolute vault and config paths. `program` is
    the installed `vaultrag` script: it runs from any working folder, where `python -m` would let a `service.py` or
    `config.py` in that folder shadow the app."""
    # Made absolute but not resolved: the script sits in a venv's bin, and a symlink to it (pipx) keeps working.
    vault_dir = str(Path(vault).expanduser().resolve())
    args = [os.path.abspath(os.path.expanduser(program)), "serve", "--vault", vault_dir]
    if config is not None:
        args += ["--config", str(Path(config).expanduser().resolve())]
    for arg in args:
        if any(ord(c) < 32 or c == "\x7f" or "\ud800" <= c <= "\udfff" for c in arg):
            raise ServiceError(f"the path {arg!r} has control characters or is not valid UTF-8; "
                               "a service file cannot hold it: rename the folder")
    path = unit_path(platform)
    if _kind(platform) == "systemd":
        return path, SYSTEMD_UNIT.format(exec_start=_systemd_command(args), vault=vault_dir.replace("%", "%%"))
    log = str(_log_file())
    agent = {"Label": LABEL, "ProgramArguments": args, "EnvironmentVariables": {"PYTHONUNBUFFERED": "1"},
             "WorkingDirectory": str(Path.home()), "RunAtLoad": True, "KeepAlive": {"SuccessfulExit": False},
             "ExitTimeOut": 15, "ProcessType": "Background", "StandardOutPath": log, "StandardErrorPath": log}
    text = plistlib.dumps(agent, sort_keys=False).decode("utf-8")
    return path, text.replace("<plist ", PLIST_COMMENT + "<plist ", 1)


def _systemd_command(args: list[str]) -> str:
    """ExecStart='s value: `%` doubled everywhere, `$` in the arguments (the program's path is not expanded)."""
    return " ".join(_systemd_word(arg.replace("%", "%%").replace("$", "$$") if n else arg.replace("%", "%%"))
                    for n, arg in enumerate(args))


def _systemd_word(arg: str) -> str:
    """One word of a command line, quoted with C escapes if it has blanks, quotes or backslashes."""
    if arg and not any(c in arg for c in " \t\"'\\;"):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _launchctl(path: Path) -> tuple[list[str], list[str]]:
    """The commands that stop and start the agent: `bootout`/`bootstrap`, or `unload`/`load` before macOS 10.10."""
    version = tuple(int(part) for part in host.mac_ver()[0].split(".")[:2] if part.isdigit())
    if version and version < (10, 10):
        return ["launchctl", "unload", "-w", str(path)], ["launchctl", "load", "-w", str(path)]
    domain = f"gui/{os.getuid()}"
    return ["launchctl", "bootout", f"{domain}/{LABEL}"], ["launchctl", "bootstrap", domain, str(path)]


def install(vault: Path, config: Path | None = None, *, dry_run: bool = False, program: Path | None = None,
            platform: str = sys.platform) -> Plan:
    """Write the service file, then enable and start it; with `dry_run`, only say what would be written and run."""
    vault = Path(vault).expanduser()
    if not vault.is_dir():
        raise ServiceError(f"the vault {vault} is not a folder; pass --vault with the path of your Obsidian vault")
    if config is not None and not Path(config).expanduser().is_file():
        raise ServiceError(f"the config file {config} does not exist")
    path, text = render(platform, Path(program or installed_command()), vault, config)
    replacing = path.exists()
    legacy = replacing and LEGACY_COMMAND in path.read_text(encoding="utf-8", errors="replace")
    if _kind(platform) == "systemd":
        commands = [["systemctl", "--user", "daemon-reload"], ["systemctl", "--user", "enable", "--now", UNIT]]
        if replacing:  # a running daemon picks up new arguments only when restarted
            commands.append(["systemctl", "--user", "restart", UNIT])
    else:
        stop, start = _launchctl(path)
        commands = [stop, start] if replacing else [start]
    if dry_run:
        return Plan(path, text, commands, legacy)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if _kind(platform) == "launchd":
        _log_file().parent.mkdir(parents=True, exist_ok=True)
    try:
        for command in commands:
            # `bootout` of a job that is not loaded fails; launchd lets go of a job a moment after `bootout` returns.
            _run(command, check=command[1] not in ("bootout", "unload"), tries=3 if command[1] == "bootstrap" else 1)
    except ServiceError as exc:
        if not replacing:
            path.unlink()
        raise ServiceError(f"{exc}; " + (f"the new {path} stays: fix that and install again" if replacing
                                         else "nothing was installed")) from None
    return Plan(path, text, commands, legacy)


def uninstall(platform: str = sys.platform) -> Path | None:
    """Stop and disable the service and remove its file; the removed path, or None if it was not installed."""
    path = unit_path(platform)
    if not path.exists():
        return None
    if _kind(platform) == "systemd":
        _run(["systemctl", "--user", "disable", "--now", UNIT], tolerate="does not exist")  # systemd never saw it
        path.unlink()
        _run(["systemctl", "--user", "daemon-reload"])
        return path
    _run(_launchctl(path)[0], check=False)  # it fails for a job that is not loaded: the state wanted
    path.unlink()
    return path


def status(platform: str = sys.platform) -> ServiceStatus:
    """Whether the service file exists and what systemd or launchd says about the service; never raises for a query."""
    path = unit_path(platform)
    if _kind(platform) == "systemd":
        enabled, active = (_query(["systemctl", "--user", verb, UNIT])[1] for verb in ("is-enabled", "is-active"))
    else:
        loaded, printed = _query(["launchctl", "print", f"gui/{os.getuid()}/{LABEL}"])
        enabled = "loaded" if loaded else "not loaded"
        states = [line.split("=", 1)[1].strip() for line in printed.splitlines() if line.strip().startswith("state =")]
        active = states[0] if loaded and states else "not running"
    legacy = path.exists() and LEGACY_COMMAND in path.read_text(encoding="utf-8", errors="replace")
    return ServiceStatus(platform, str(path), path.exists(), enabled, active, logs_hint(platform), legacy)


def logs_hint(platform: str) -> str:
    """Where the service's logs are read: the journalctl command, or the LaunchAgent's log file."""
    return "journalctl --user -u vaultrag -f" if _kind(platform) == "systemd" else str(_log_file())


def _log_file() -> Path:
    return Path.home() / "Library" / "Logs" / "vaultrag.log"


def _query(command: list[str]) -> tuple[bool, str]:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"unknown ({command[0]}: {exc})"
    text = done.stdout.strip()
    if done.returncode != 0 and not text:
        return False, f"unknown ({_oneline(done.stderr) or f'exit {done.returncode}'})"
    return done.returncode == 0, text


def _run(command: list[str], check: bool = True, tolerate: str = "", tries: int = 1) -> subprocess.CompletedProcess:
    """Run a systemctl/launchctl command; unless it succeeds (or `check` is off), a ServiceError saying what to do."""
    for attempt in range(tries):
        if attempt:
            time.sleep(1)
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        except FileNotFoundError:
            hint = NO_SYSTEMD if command[0] == "systemctl" else "is this macOS?"
            raise ServiceError(f"`{command[0]}` not found: {hint}") from None
        except subprocess.TimeoutExpired:
            raise ServiceError(f"`{shlex.join(command)}` did not finish within 60 s") from None
        if done.returncode == 0 or not check or (tolerate and tolerate in done.stderr):
            return done
    said = _oneline(done.stderr) or _oneline(done.stdout) or "no message"
    message = f"`{shlex.join(command)}` failed (exit {done.returncode}): {said}"
    if command[0] == "systemctl" and any(s in said for s in ("connect to bus", "XDG_RUNTIME_DIR", "DBUS_SESSION")):
        message += f"; {NO_USER_BUS}"
    raise ServiceError(message)


def _oneline(text: str) -> str:
    return "; ".join(line.strip() for line in text.splitlines() if line.strip())
