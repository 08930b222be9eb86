"""The vault watcher with real files and real observers: which paths it reports, how it batches them, which mode."""

from __future__ import annotations

import errno
import logging
import os
import sys
import threading

import pytest

from vaultrag.ingest import watcher as watcher_module
from vaultrag.ingest.watcher import VaultWatcher, choose_mode

WAIT_S = 5.0  # generous: the machine may be busy


class Batches:
    """An on_batch that records every batch and lets a test wait for paths to show up."""

    def __init__(self, fail_first: bool = False):
        self.calls: list[set[str]] = []
        self._fail_first = fail_first
        self._cond = threading.Condition()

    def __call__(self, paths: set[str]) -> None:
        with self._cond:
            self.calls.append(set(paths))
            self._cond.notify_all()
        if self._fail_first and len(self.calls) == 1:
            raise RuntimeError("owner failed")

    @property
    def seen(self) -> set[str]:
        with self._cond:
            return set().union(*self.calls)

    def wait_for(self, *paths: str) -> set[str]:
        """Every path reported so far, once all of `paths` have been; fails after WAIT_S."""
        with self._cond:
            ok = self._cond.wait_for(lambda: set(paths) <= set().union(*self.calls), WAIT_S)
        assert ok, f"never reported: {set(paths) - self.seen}; got {self.calls}"
        return self.seen


@pytest.fixture
def vault(tmp_path):
    root = tmp_path / "vault"
    root.mkdir()
    return root


@pytest.fixture
def watch(vault):
    """watch(mode="native", **kwargs) -> (started watcher on `vault`, its Batches); stopped after the test."""
    started = []

    def make(mode: str = "native", batches: Batches | None = None, **kwargs) -> tuple[VaultWatcher, Batches]:
        batches = batches or Batches()
        kwargs.setdefault("debounce_s", 0.1)
        w = VaultWatcher(vault, batches, mode=mode, **kwargs)
        started.append(w)
        w.start()
        return w, batches

    yield make
    for w in started:
        w.stop()


def test_create_edit_delete_are_reported(vault, watch):
    (vault / "edit.md").write_text("one")
    (vault / "gone.md").write_text("bye")
    _, batches = watch()
    (vault / "new.md").write_text("hello")
    with open(vault / "edit.md", "a") as f:
        f.write(" two")
    (vault / "gone.md").unlink()
    assert batches.wait_for("new.md", "edit.md", "gone.md") == {"new.md", "edit.md", "gone.md"}


def test_nested_paths_are_vault_relative_posix(vault, watch):
    (vault / "Work" / "Deep").mkdir(parents=True)
    _, batches = watch()
    (vault / "Work" / "Deep" / "Plan.md").write_text("x")
    assert "Work/Deep/Plan.md" in batches.wait_for("Work/Deep/Plan.md")


def test_rename_reports_both_paths(vault, watch):
    (vault / "old.md").write_text("x")
    _, batches = watch()
    os.rename(vault / "old.md", vault / "new.md")
    batches.wait_for("old.md", "new.md")


def test_folder_rename_reports_old_and_new_folder(vault, watch):
    (vault / "Old").mkdir()
    (vault / "Old" / "n.md").write_text("x")
    _, batches = watch()
    os.rename(vault / "Old", vault / "New")
    batches.wait_for("Old", "New")


@pytest.mark.parametrize("temp", ["note.md.tmp", ".note.md.swp"])
def test_atomic_save_reports_the_note_not_the_temp_file(vault, watch, temp):
    (vault / "note.md").write_text("old")
    _, batches = watch()
    (vault / temp).write_text("new")
    os.replace(vault / temp, vault / "note.md")
    assert batches.wait_for("note.md") == {"note.md"}


def test_created_then_deleted_is_still_reported(vault, watch):
    _, batches = watch()
    (vault / "brief.md").write_text("x")
    (vault / "brief.md").unlink()
    batches.wait_for("brief.md")


def test_dot_folders_and_editor_temporaries_are_ignored(vault, watch):
    _, batches = watch()
    for rel in [".obsidian/workspace.json", ".trash/old.md", ".git/HEAD", "Sub/.hidden.md"]:
        (vault / rel).parent.mkdir(exist_ok=True)
        (vault / rel).write_text("{}")
    for name in ["note.md.swp", "note.md.swx", ".note.md.swp", "note.md~", ".#note.md", "x.tmp", "f.crdownload",
                 ".goutputstream-AB12", "4913", "note.md.sb-1a2b-XyZ", "~$report.docx", "LOUD.TMP"]:
        (vault / name).write_text("scratch")
        (vault / name).unlink()
    (vault / "sentinel.md").write_text("x")  # events arrive in order: anything before it is in by now
    assert batches.wait_for("sentinel.md") - {"Sub"} == {"sentinel.md"}


def test_a_burst_of_writes_comes_as_a_few_coalesced_batches(vault, watch):
    w, batches = watch(debounce_s=0.3, max_wait_s=3.0)
    names = [f"n{i:02}.md" for i in range(50)]
    for round_ in range(10):
        for name in names:
            with open(vault / name, "a") as f:
                f.write(f"line {round_}\n")
    batches.wait_for(*names)
    w.stop()  # delivers anything still being collected
    assert batches.seen == set(names)
    assert len(batches.calls) <= 5


def test_polling_mode_reports_changes(vault, watch):
    (vault / "old.md").write_text("x")
    w, batches = watch(mode="polling", poll_interval_s=0.2)
    assert w.mode_used == "polling"
    (vault / "new.md").write_text("hello")
    os.rename(vault / "old.md", vault / "moved.md")
    (vault / ".obsidian").mkdir()
    (vault / ".obsidian" / "workspace.json").write_text("{}")
    assert batches.wait_for("new.md", "old.md", "moved.md") == {"new.md", "old.md", "moved.md"}


def test_on_batch_raising_does_not_stop_later_batches(vault, watch, caplog):
    caplog.set_level(logging.ERROR, logger="vaultrag.ingest.watcher")
    _, batches = watch(batches=Batches(fail_first=True))
    (vault / "a.md").write_text("x")
    batches.wait_for("a.md")
    (vault / "b.md").write_text("x")
    batches.wait_for("b.md")
    assert "on_batch failed" in caplog.text and "owner failed" in caplog.text


def test_start_and_stop_twice_are_safe_and_it_restarts(vault):
    batches = Batches()
    w = VaultWatcher(vault, batches, mode="native", debounce_s=0.1)
    w.stop()
    w.start()
    w.start()
    assert w.mode_used == "native"
    w.stop()
    w.stop()
    w.start()
    (vault / "again.md").write_text("x")
    batches.wait_for("again.md")
    w.stop()
    assert not any(t.name == "vault-watcher" for t in threading.enumerate())


def test_native_start_failure_falls_back_to_polling(vault, watch, monkeypatch, caplog):
    class NoWatchesLeft:
        def schedule(self, *args, **kwargs):
            pass

        def start(self):
            raise OSError(errno.ENOSPC, "inotify watch limit reached")

    monkeypatch.setattr(watcher_module, "Observer", NoWatchesLeft)
    w, batches = watch(poll_interval_s=0.2)
    assert w.mode_used == "polling"
    assert "fs.inotify.max_user_watches" in caplog.text
    (vault / "n.md").write_text("x")
    batches.wait_for("n.md")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the mount table is read on Linux only")
@pytest.mark.parametrize(
    ("fs_type", "mode"),
    [(t, "polling") for t in ["nfs", "nfs4", "cifs", "smb3", "9p", "drvfs", "fuse.sshfs", "fuse.rclone", "virtiofs"]]
    + [(t, "native") for t in ["ext4", "xfs", "btrfs", "tmpfs", "overlay", "fuseblk"]],
)
def test_choose_mode_reads_the_vaults_filesystem(tmp_path, fs_type, mode):
    vault = tmp_path / "my vault"
    (vault / "sub").mkdir(parents=True)
    mounts = tmp_path / "mounts"
    mount_point = str(vault).replace(" ", "\\040")
    mounts.write_text(
        "/dev/vda / ext4 rw,relatime 0 0\n"
        f"server:/x {mount_point}2 nfs rw 0 0\n"  # a sibling sharing the prefix: not the vault's mount
        f"src {mount_point} {fs_type} rw 0 0\n"
    )
    assert choose_mode(vault, "auto", mounts=mounts) == mode
    assert choose_mode(vault / "sub", "auto", mounts=mounts) == mode


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the mount table is read on Linux only")
def test_choose_mode_takes_the_longest_mount_point(tmp_path):
    mounts = tmp_path / "mounts"
    mounts.write_text(f"host:/ / nfs4 rw 0 0\n/dev/sdb {tmp_path} ext4 rw 0 0\n")
    assert choose_mode(tmp_path / "vault", "auto", mounts=mounts) == "native"
    assert choose_mode(tmp_path.parent, "auto", mounts=mounts) == "polling"


def test_choose_mode_keeps_an_explicit_mode_and_rejects_unknown_ones(tmp_path):
    assert choose_mode(tmp_path, "native") == "native"
    assert choose_mode(tmp_path, "polling") == "polling"
    with pytest.raises(ValueError, match="watch mode"):
        choose_mode(tmp_path, "sometimes")
