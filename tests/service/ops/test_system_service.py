"""The user service: unit and plist rendering, and `vaultrag service install/uninstall/status` against stand-ins."""

from __future__ import annotations

import json
import os
import plistlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vaultrag.service.cli.service_commands import service_app
from vaultrag.service.ops.system_service import ServiceError, install, installed_command, render, uninstall

REPO = Path(__file__).resolve().parents[3]
PROGRAM = installed_command()  # the venv's `vaultrag` script
runner = CliRunner()

# A stand-in for systemctl and launchctl: the test sandbox has no systemd user session or launchd to talk to, so this
# mock records each call (one line, arguments separated by tabs), answers status queries, and fails on request.
FAKE_TOOL = r"""#!/bin/sh
line="${0##*/}"
for arg in "$@"; do line="$line	$arg"; done
printf '%s\n' "$line" >> "$FAKE_LOG"
if [ -n "$FAKE_FAIL" ]; then printf '%s\n' "$FAKE_FAIL" >&2; exit 1; fi
case "$2" in is-enabled) echo enabled ;; is-active) echo active ;; esac
case "$1" in print) printf '%s\n' "gui/501/com.vaultrag.daemon = {" "	state = running" "}" ;; esac
"""


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh HOME and XDG_CONFIG_HOME, with spaces and non-ASCII in the path."""
    home = tmp_path / "home dir ü"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "xdg config"))
    return home


@pytest.fixture
def vault(tmp_path):
    vault = tmp_path / "Notes & Ideas é" / "Vault ü"
    vault.mkdir(parents=True)
    return vault


@pytest.fixture
def config(tmp_path):
    config = tmp_path / "conf dir" / "config ß.toml"
    config.parent.mkdir()
    config.write_text("[server]\nport = 8765\n", encoding="utf-8")
    return config


@pytest.fixture
def fake_tools(tmp_path, monkeypatch):
    """Put fake `systemctl` and `launchctl` first on PATH; returns a function giving the calls so far."""
    bin_dir, log = tmp_path / "fake bin", tmp_path / "calls.log"
    bin_dir.mkdir()
    for name in ("systemctl", "launchctl"):
        (bin_dir / name).write_text(FAKE_TOOL)
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_LOG", str(log))
    monkeypatch.delenv("FAKE_FAIL", raising=False)
    return lambda: [line.split("\t") for line in log.read_text().splitlines()] if log.exists() else []


def test_systemd_unit_runs_the_installed_command_on_quoted_paths(home, vault, config):
    path, text = render("linux", PROGRAM, vault, config)
    assert path == home / "xdg config" / "systemd" / "user" / "vaultrag.service"
    exec_start = [line for line in text.splitlines() if line.startswith("ExecStart=")]
    assert exec_start == [f'ExecStart={PROGRAM} serve --vault "{vault}" --config "{config}"']
    for line in ("Restart=on-failure", "RestartSec=5", "Environment=PYTHONUNBUFFERED=1", "TimeoutStopSec=15",
                 "KillSignal=SIGTERM", "WantedBy=default.target"):
        assert line in text.splitlines()
    assert "--config" not in render("linux", PROGRAM, vault, None)[1]


def test_systemd_words_escape_specifiers_variables_and_quotes(home, tmp_path):
    odd = tmp_path / 'a "b" 100% $HOME \\ c'
    odd.mkdir()
    text = render("linux", Path("/usr/bin/vaultrag"), odd, None)[1]
    assert f'--vault "{tmp_path}/a \\"b\\" 100%% $$HOME \\\\ c"' in text
    assert f"over {tmp_path}/a \"b\" 100%% $HOME" in text  # Description= expands specifiers only


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed")
def test_systemd_analyze_accepts_the_unit(home, config, tmp_path):
    # The command sits in a folder with blanks, specifiers and non-ASCII: verify checks that path is executable;
    # the vault's quotes and backslash would show as a parse error if the quoting were wrong.
    odd_bin, odd_vault = tmp_path / "py dir % $x ü", tmp_path / 'Notes "q" 100% $HOME \\ ü'
    odd_bin.mkdir()
    odd_vault.mkdir()
    (odd_bin / "vaultrag").symlink_to(PROGRAM)
    path, text = render("linux", odd_bin / "vaultrag", odd_vault, config)
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    done = subprocess.run(["systemd-analyze", "verify", "--user", str(path)], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)})
    assert done.returncode == 0, done.stderr
    assert not [line for line in done.stderr.splitlines() if "vaultrag.service" in line], done.stderr


def test_launchd_plist_parses_with_the_right_program(home, vault, config):
    path, text = render("darwin", PROGRAM, vault, config)
    assert path == home / "Library" / "LaunchAgents" / "com.vaultrag.daemon.plist"
    agent = plistlib.loads(text.encode("utf-8"))
    assert agent["Label"] == "com.vaultrag.daemon"
    assert agent["ProgramArguments"] == [str(PROGRAM), "serve", "--vault", str(vault),
                                         "--config", str(config)]
    assert agent["RunAtLoad"] is True and agent["KeepAlive"] == {"SuccessfulExit": False}
    assert agent["StandardOutPath"] == agent["StandardErrorPath"] == str(home / "Library" / "Logs" / "vaultrag.log")
    assert agent["ProcessType"] == "Background"
    assert "&amp;" in text  # "Notes & Ideas" escaped by plistlib


@pytest.mark.parametrize("platform, example, home_dir, python, vault, config", [
    ("linux", "systemd/vaultrag.service", "/home/you", "/home/you/vaultrag/.venv/bin/vaultrag",
     "/home/you/Obsidian Vault", "/home/you/.config/vaultrag/config.toml"),
    ("darwin", "launchd/com.vaultrag.daemon.plist", "/Users/you", "/Users/you/vaultrag/.venv/bin/vaultrag",
     "/Users/you/Documents/Obsidian Vault", "/Users/you/Library/Application Support/vaultrag/config.toml"),
])
def test_repository_examples_are_what_render_writes(monkeypatch, platform, example, home_dir, python, vault, config):
    monkeypatch.setenv("HOME", home_dir)
    expected = render(platform, Path(python), Path(vault), Path(config))[1]
    assert (REPO / example).read_text(encoding="utf-8") == expected, f"regenerate {example} from render()"


def test_unknown_platform_is_refused(vault):
    with pytest.raises(ServiceError, match="systemd .Linux. and launchd .macOS., not win32"):
        render("win32", PROGRAM, vault, None)


def test_dry_run_prints_and_changes_nothing(home, vault, config, fake_tools, tmp_path):
    before = sorted(tmp_path.rglob("*"))
    result = runner.invoke(service_app, ["install", "--vault", str(vault), "--config", str(config), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.stdout == render("linux", PROGRAM, vault, config)[1]
    assert "would write" in result.stderr and "systemctl --user enable --now vaultrag.service" in result.stderr
    assert sorted(tmp_path.rglob("*")) == before and fake_tools() == []


def test_vault_defaults_to_the_configured_one(home, vault, tmp_path, fake_tools):
    config = tmp_path / "with-vault.toml"
    config.write_text(f"[vault]\npath = '{vault}'\n", encoding="utf-8")
    result = runner.invoke(service_app, ["install", "--config", str(config), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert f'--vault "{vault}"' in result.stdout


def test_missing_vault_is_a_clear_error(home, tmp_path, fake_tools):
    result = runner.invoke(service_app, ["install", "--vault", str(tmp_path / "nowhere")])
    assert isinstance(result.exception, ServiceError) and "is not a folder" in str(result.exception)
    assert fake_tools() == []


def test_install_reinstall_status_uninstall_with_systemd(home, vault, config, fake_tools):
    unit = home / "xdg config" / "systemd" / "user" / "vaultrag.service"
    result = runner.invoke(service_app, ["install", "--vault", str(vault), "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert unit.read_text(encoding="utf-8") == render("linux", PROGRAM, vault, config)[1]
    assert fake_tools() == [["systemctl", "--user", "daemon-reload"],
                            ["systemctl", "--user", "enable", "--now", "vaultrag.service"]]

    assert runner.invoke(service_app, ["install", "--vault", str(vault)]).exit_code == 0
    assert "--config" not in unit.read_text(encoding="utf-8")
    assert fake_tools()[2:] == [["systemctl", "--user", "daemon-reload"],
                                ["systemctl", "--user", "enable", "--now", "vaultrag.service"],
                                ["systemctl", "--user", "restart", "vaultrag.service"]]

    status = json.loads(runner.invoke(service_app, ["status", "--json"]).stdout)
    assert status == {"platform": sys.platform, "path": str(unit), "installed": True, "enabled": "enabled",
                      "active": "active", "logs": "journalctl --user -u vaultrag -f", "legacy": False}

    calls = len(fake_tools())
    result = runner.invoke(service_app, ["uninstall"])
    assert result.exit_code == 0 and f"removed {unit}" in result.stdout
    assert not unit.exists()
    assert fake_tools()[calls:] == [["systemctl", "--user", "disable", "--now", "vaultrag.service"],
                                    ["systemctl", "--user", "daemon-reload"]]
    result = runner.invoke(service_app, ["uninstall"])
    assert result.exit_code == 0 and "not installed" in result.stdout
    assert len(fake_tools()) == calls + 2


def test_failing_systemctl_names_the_command_and_the_fix(home, vault, fake_tools, monkeypatch):
    monkeypatch.setenv("FAKE_FAIL", "Failed to connect to bus: No medium found")
    result = runner.invoke(service_app, ["install", "--vault", str(vault)])
    assert isinstance(result.exception, ServiceError)
    message = str(result.exception)
    assert "`systemctl --user daemon-reload` failed (exit 1): Failed to connect to bus: No medium found" in message
    assert "loginctl enable-linger $USER" in message and "nothing was installed" in message and "\n" not in message
    assert not (home / "xdg config" / "systemd" / "user" / "vaultrag.service").exists()


def test_missing_systemctl_says_so(home, vault, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ServiceError, match="`systemctl` not found: this system does not run systemd"):
        install(vault, platform="linux")


def test_install_and_uninstall_with_launchd(home, vault, config, fake_tools):
    plist = home / "Library" / "LaunchAgents" / "com.vaultrag.daemon.plist"
    domain = f"gui/{os.getuid()}"
    install(vault, config, platform="darwin")
    assert plistlib.loads(plist.read_bytes())["ProgramArguments"][-1] == str(config)
    assert (home / "Library" / "Logs").is_dir()
    install(vault, config, platform="darwin")
    assert fake_tools() == [["launchctl", "bootstrap", domain, str(plist)],
                            ["launchctl", "bootout", f"{domain}/com.vaultrag.daemon"],
                            ["launchctl", "bootstrap", domain, str(plist)]]
    assert uninstall(platform="darwin") == plist and not plist.exists()
    assert fake_tools()[3:] == [["launchctl", "bootout", f"{domain}/com.vaultrag.daemon"]]
    assert uninstall(platform="darwin") is None


def test_a_unit_from_an_earlier_release_is_rewritten_and_said(home, vault, config, fake_tools):
    """Units written before the `vaultrag` package ran `python -m service.cli`, which no longer imports."""
    unit = home / "xdg config" / "systemd" / "user" / "vaultrag.service"
    unit.parent.mkdir(parents=True)
    unit.write_text(f"[Service]\nExecStart={sys.executable} -m service.cli serve --vault {vault}\n", encoding="utf-8")
    status = runner.invoke(service_app, ["status"])
    assert "outdated" in status.stdout and "vaultrag service install" in status.stdout
    result = runner.invoke(service_app, ["install", "--vault", str(vault), "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "rewrote the service file of an earlier release" in result.stderr
    assert unit.read_text(encoding="utf-8") == render("linux", PROGRAM, vault, config)[1]
    assert "outdated" not in runner.invoke(service_app, ["status"]).stdout
