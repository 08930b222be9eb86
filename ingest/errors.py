"""Errors of the index layer (the whole tree is drawn in config/errors.py)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from vaultrag.config.errors import VaultragError


class ModelUnavailable(VaultragError):
    """The embedding model cannot be found or loaded."""


class EmbedderUnavailable(VaultragError):
    """The embedding server (Ollama, an OpenAI-compatible server) cannot be reached or failed; indexing pauses and
    resumes by itself, nothing indexed is lost."""


class StoreUnavailable(VaultragError):
    """The vector store cannot be opened or reached."""


class IndexBusy(VaultragError):
    """Another process is writing this index."""


class PullRefused(VaultragError):
    """`vaultrag models pull` was given something that is not a Hugging Face model id."""


class PullFailed(VaultragError):
    """`vaultrag models pull` could not complete the download."""


class DataDirUnwritable(VaultragError):
    """The data dir's disk is full or read-only; what was indexed is intact and indexing resumes once it is writable."""


_LOW_SPACE = 64 * 1024  # bytes free under which a failed write is put down to a full disk


def storage_error(data_dir: Path, exc: BaseException) -> DataDirUnwritable | None:
    """The error to show for `exc`, a failed read or write under `data_dir`, when its disk is full or read-only;
    None when the cause is something else. SQLite and Chroma report these in words, the OS by errno."""
    causes = [exc]
    while (cause := causes[-1].__cause__ or causes[-1].__context__) is not None and cause not in causes:
        causes.append(cause)
    codes = {getattr(e, "errno", None) for e in causes}
    text = " ".join(str(e) for e in causes).lower()
    fs = _statvfs(data_dir)
    resume = "nothing indexed so far is lost, and indexing continues once"
    if errno.EROFS in codes or "read-only file system" in text or "readonly database" in text or (
            fs is not None and fs.f_flag & os.ST_RDONLY):
        return DataDirUnwritable(f"the data dir {data_dir} is on a read-only file system: make it writable or move "
                                 f"it (data.dir / --data-dir); {resume} it is writable")
    if codes & {errno.ENOSPC, errno.EDQUOT} or "disk is full" in text or "no space left" in text or (
            fs is not None and fs.f_bavail * fs.f_frsize < _LOW_SPACE):
        free = f"{fs.f_bavail * fs.f_frsize / 1e6:.1f} MB free" if fs is not None else "full"
        return DataDirUnwritable(f"no space left on the disk of the data dir {data_dir} ({free}): free some space or "
                                 f"move it (data.dir / --data-dir); {resume} there is room")
    return None


def _statvfs(path: Path):
    """The file system of `path`, or of its nearest existing parent (None when none can be read)."""
    for candidate in (path, *path.parents):
        try:
            return os.statvfs(candidate)
        except OSError:
            continue
    return None
