"""The part of a vault a narrowed sync looks at: the paths a watcher batch named, and everything below them."""

from __future__ import annotations

from collections.abc import Collection


class ScanScope:
    """`covers(rel)`: `rel` is a named path or below one; `leads_to(folder)`: the walk must enter `folder` to reach one."""

    def __init__(self, paths: Collection[str]):
        self.paths = sorted({p.strip("/") for p in paths if p.strip("/")})

    def covers(self, rel: str) -> bool:
        return any(rel == p or rel.startswith(p + "/") for p in self.paths)

    def leads_to(self, folder: str) -> bool:
        return self.covers(folder) or any(p.startswith(folder + "/") for p in self.paths)
