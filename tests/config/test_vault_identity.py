"""One vault, one identity: its path spelled as the disk stores it, so a differently-cased path on a case-insensitive
disk gives the same data dir (and so the same writer lock and daemon), and older data dirs stay in use."""

from __future__ import annotations

import hashlib
import os
import unicodedata

import pytest

from vaultrag.config import vault_identity
from vaultrag.config.settings import load_settings
from vaultrag.config.vault_identity import data_dir_name, on_disk_path


@pytest.fixture
def case_insensitive(monkeypatch):
    """This machine's disk is case-sensitive, so the one query that differs on APFS or NTFS, "does the file system
    resolve this spelling to that listed entry", is simulated: equal up to case and Unicode form, and the entry
    exists. Listing the folders stays real."""
    def same_entry(given, stored):
        return (unicodedata.normalize("NFC", given.name).casefold() == unicodedata.normalize("NFC", stored.name).casefold()
                and os.path.samefile(given.parent, stored.parent) and stored.exists())
    monkeypatch.setattr(vault_identity, "_same_entry", same_entry)


@pytest.fixture
def data_home(tmp_path, monkeypatch):
    monkeypatch.setattr("platformdirs.user_data_dir", lambda app: str(tmp_path / "data"))
    return tmp_path / "data" / "vaults"


def test_a_differently_cased_path_on_a_case_insensitive_disk_is_the_same_vault(tmp_path, data_home, case_insensitive):
    (tmp_path / "Home" / "Notes").mkdir(parents=True)
    stored = load_settings(overrides={"vault.path": str(tmp_path / "Home" / "Notes")}, environ={})
    typed = load_settings(overrides={"vault.path": str(tmp_path / "home" / "NOTES")}, environ={})
    assert typed.vault_path == stored.vault_path == tmp_path / "Home" / "Notes"
    assert typed.data_dir == stored.data_dir and typed.data_dir.name.startswith("Notes-")


def test_a_decomposed_name_on_disk_is_found_from_a_composed_path(tmp_path, case_insensitive):
    """macOS stores some names decomposed (NFD) and finds them by the composed name too."""
    (tmp_path / unicodedata.normalize("NFD", "Café")).mkdir()
    assert on_disk_path(tmp_path / "café") == tmp_path / unicodedata.normalize("NFD", "Café")


def test_on_a_case_sensitive_disk_two_spellings_stay_two_folders(tmp_path):
    """Real file system, no simulation: `Notes` and `notes` can both exist here and are two vaults; a spelling that
    names nothing on disk is left as typed (the vault check then says it does not exist)."""
    (tmp_path / "Notes").mkdir()
    (tmp_path / "notes").mkdir()
    assert on_disk_path(tmp_path / "notes") == tmp_path / "notes"
    assert on_disk_path(tmp_path / "Notes") == tmp_path / "Notes"
    assert on_disk_path(tmp_path / "NOTES" / "sub") == tmp_path / "NOTES" / "sub"


def test_a_path_spelled_as_stored_keeps_its_data_dir_name(tmp_path, data_home):
    """What every existing user on Linux, on Windows and with a correctly-cased path has: nothing moves."""
    (tmp_path / "Notes").mkdir()
    before = f"Notes-{hashlib.sha256(str(tmp_path / 'Notes').encode()).hexdigest()[:8]}"  # the old formula
    assert load_settings(overrides={"vault.path": str(tmp_path / "Notes")}, environ={}).data_dir == data_home / before


def test_a_data_dir_named_from_an_older_spelling_stays_in_use(tmp_path, data_home, case_insensitive):
    """Made before identities followed the disk (configured as ~/notes, stored as ~/Notes): no rebuild."""
    (tmp_path / "Notes").mkdir()
    legacy = data_home / data_dir_name(tmp_path / "notes")
    assert load_settings(overrides={"vault.path": str(tmp_path / "notes")}, environ={}).data_dir != legacy
    legacy.mkdir(parents=True)
    assert load_settings(overrides={"vault.path": str(tmp_path / "notes")}, environ={}).data_dir == legacy
    (data_home / data_dir_name(tmp_path / "Notes")).mkdir()  # once the on-disk identity has one, it wins
    assert load_settings(overrides={"vault.path": str(tmp_path / "notes")}, environ={}).data_dir.name.startswith("Notes-")


def test_two_spellings_of_one_vault_share_one_writer_lock(tmp_path, data_home, case_insensitive, embedder):
    """The second spelling meets the first one's lock, as a second daemon would: one vault, one writer."""
    from vaultrag.ingest.errors import IndexBusy
    from vaultrag.ingest.pipeline import VaultIndexer

    (tmp_path / "Notes").mkdir()
    first = load_settings(overrides={"vault.path": str(tmp_path / "Notes")}, environ={})
    second = load_settings(overrides={"vault.path": str(tmp_path / "notes")}, environ={})
    with VaultIndexer(first, embedder):
        with pytest.raises(IndexBusy, match=str(tmp_path / "Notes")):
            VaultIndexer(second, embedder).__enter__()
