"""Scopes: named parts of the vault (`[scopes] work = "path:Work/ tag:project"`), as search filters."""

from __future__ import annotations

from vaultrag.config.errors import ConfigError
from vaultrag.config.settings import Settings
from vaultrag.service.search.filters import FilterError, Filters, split_inline


def load_scopes(settings: Settings) -> dict[str, Filters]:
    """Each configured scope's filters; a scope that is not only filters raises ConfigError naming it."""
    scopes = {}
    for name, written in settings.scopes.items():
        try:
            text, filters = split_inline(written)
        except FilterError as exc:
            raise ConfigError(f"bad setting scopes.{name} = {written!r}: {exc}") from None
        if text.strip() or not filters:
            raise ConfigError(f"bad setting scopes.{name} = {written!r}: a scope is only filters, like "
                              "\"path:Work/ tag:project after:2025-01-01\"" + (f"; {text.strip()!r} is none" if text.strip() else ""))
        scopes[name] = filters
    return scopes
