"""The one-writer lock against real processes: a second writer is refused naming the first, a killed holder frees it."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading

import pytest

from vaultrag.ingest.errors import IndexBusy
from vaultrag.ingest.writer_lock import WriterLock, read_lock_holder

HOLD = """
import sys
from pathlib import Path
from vaultrag.ingest.writer_lock import WriterLock
with WriterLock(Path(sys.argv[1]), {"vault": "/notes", "host": "127.0.0.1", "port": 8765}):
    print("held", flush=True)
    sys.stdin.read()
"""


@pytest.fixture
def holder(tmp_path):
    """A separate process holding the lock of tmp_path/writer.lock until the test ends (or kills it)."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "writer.lock")], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "held\n"
    yield proc
    if proc.poll() is None:
        proc.stdin.close()
        proc.wait(10)


def test_a_second_writer_is_refused_naming_the_first(tmp_path, holder):
    with pytest.raises(IndexBusy) as refused:
        with WriterLock(tmp_path / "writer.lock", {"vault": "/notes"}):
            pass
    assert str(refused.value) == (f"another vaultrag process (pid {holder.pid}, serving http://127.0.0.1:8765) is "
                                  "already writing the index of /notes; stop it first or use it")
    assert read_lock_holder(tmp_path / "writer.lock") == {"pid": holder.pid, "vault": "/notes", "host": "127.0.0.1",
                                                          "port": 8765}


def test_a_killed_holder_frees_the_lock(tmp_path, holder):
    holder.send_signal(signal.SIGKILL)
    holder.wait(10)
    with WriterLock(tmp_path / "writer.lock", {"vault": "/notes"}):
        assert read_lock_holder(tmp_path / "writer.lock") == {"pid": os.getpid(), "vault": "/notes"}


def test_the_record_is_private_and_emptied_on_release(tmp_path):
    path = tmp_path / "writer.lock"
    with WriterLock(path, {"vault": "/notes", "port": 9000}):
        assert json.loads(path.read_text()) == {"pid": os.getpid(), "vault": "/notes", "port": 9000}
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_lock_holder(path) == {}


def test_released_on_another_thread_another_process_can_take_it(tmp_path):
    lock = WriterLock(tmp_path / "writer.lock", {"vault": "/notes"})
    lock.__enter__()
    releaser = threading.Thread(target=lock.__exit__, args=(None, None, None))
    releaser.start()
    releaser.join()
    taken = subprocess.run([sys.executable, "-c", HOLD, str(tmp_path / "writer.lock")], input="", text=True,
                           capture_output=True, timeout=60)
    assert taken.returncode == 0 and taken.stdout == "held\n", taken.stderr
