"""Errors of the index layer (the whole tree is drawn in config/errors.py)."""

from config.errors import VaultragError


class ModelUnavailable(VaultragError):
    """The embedding model cannot be found or loaded."""


class StoreUnavailable(VaultragError):
    """The vector store cannot be opened or reached."""


class IndexBusy(VaultragError):
    """Another process is writing this index."""
