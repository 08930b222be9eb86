"""Shared fixtures: an isolated home for settings and data, the real embedding model loaded once, vault factories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from config.settings import Settings, load_settings


@pytest.fixture(scope="session", autouse=True)
def isolated_home(tmp_path_factory):
    """No test reads the developer's own config or writes into their data dir."""
    home = tmp_path_factory.mktemp("home")
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith("VAULTRAG_"):
            del os.environ[name]
    os.environ.update(XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"), HF_HUB_OFFLINE="1")
    yield home
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def embedder():
    """The real bundled all-MiniLM-L6-v2, loaded once for the whole session."""
    from ingest.embedder import BUNDLED_MODEL, Embedder, locate_model

    return Embedder(locate_model(BUNDLED_MODEL), device="cpu")


@pytest.fixture
def write_vault(tmp_path):
    """write_vault({"Folder/Note.md": "text", ...}) -> the vault folder, with those files (str or bytes)."""
    root = tmp_path / "vault"
    root.mkdir()

    def write(files: dict[str, str | bytes]) -> Path:
        for rel, content in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return root

    return write


@pytest.fixture
def settings_for(tmp_path):
    """settings_for(vault, **{"embedding.model": ...}) -> Settings with a private data dir under tmp_path."""

    def make(vault: Path, **overrides) -> Settings:
        return load_settings(overrides={"vault.path": str(vault), "data.dir": str(tmp_path / "data"), **overrides},
                             environ={})

    return make
