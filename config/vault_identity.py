"""A vault's identity: its path with each component spelled as the disk stores it, so that `~/Notes` and `~/notes` on
a case-insensitive disk (macOS's default APFS, Windows) name one vault, with one data dir, one writer lock and one
daemon; and the data dir that identity gives.

Why the on-disk spelling and not the folder's (st_dev, st_ino): it needs no registry (the data dir's name still
follows from the path alone), it survives a vault restored from a backup or re-created by a sync tool (which gives it
a new inode), and it changes nothing for a path already spelled as on disk, which is every path on a case-sensitive
disk and on Windows (where `Path.resolve()` already returns the stored case), so existing data dirs keep their names.
The spelling is found by listing each parent folder: the entry whose name the given one matches, as the file system
itself says (both names are the same file), up to case and Unicode normalisation.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
from pathlib import Path


def on_disk_path(path: Path) -> Path:
    """`path` (absolute, resolved) with each existing component spelled as its parent folder lists it."""
    spelled = Path(path.anchor)
    for part in path.parts[1:] if path.anchor else path.parts:
        spelled = spelled / _stored_name(spelled, part)
    return spelled


def _stored_name(parent: Path, name: str) -> str:
    try:
        entries = os.listdir(parent)
    except OSError:  # unreadable or missing: nothing to learn; keep the name as given
        return name
    if name in entries:
        return name  # spelled as stored (on a case-sensitive disk, `Notes` and `notes` can both exist)
    key = _fold(name)
    for entry in entries:
        if _fold(entry) == key and _same_entry(parent / name, parent / entry):
            return entry
    return name


def _fold(name: str) -> str:
    return unicodedata.normalize("NFC", name).casefold()


def _same_entry(given: Path, stored: Path) -> bool:
    """Whether the file system resolves the name `given` to the listed entry `stored` (case-insensitive lookup)."""
    try:
        return os.path.samefile(given, stored)
    except OSError:
        return False


def data_dir_name(vault: Path) -> str:
    """The folder name of `vault`'s data dir under the platform data dir: its name and a hash of its path."""
    return f"{vault.name}-{hashlib.sha256(str(vault).encode()).hexdigest()[:8]}"


def vault_data_dir(base: Path, vault: Path, as_given: Path) -> Path:
    """The data dir under `base` of the vault at the on-disk path `vault`, configured as `as_given`. A data dir
    made before identities followed the disk's spelling, named from a differently-cased `as_given`, is kept in use
    (no rebuild) until the one named from the on-disk path exists."""
    canonical = base / data_dir_name(vault)
    legacy = base / data_dir_name(as_given)
    return legacy if as_given != vault and not canonical.exists() and legacy.is_dir() else canonical
