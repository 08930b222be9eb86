"""`vaultrag doctor`'s checks of this machine: the vault, whether the LLM fits, the disk, the daemon's port."""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

import psutil

from vaultrag.config.catalogue import Catalogue
from vaultrag.config.errors import VaultragError
from vaultrag.config.hardware import HardwareProfile
from vaultrag.config.selection import CPU_MAX_WEIGHTS_GB, Budget, smaller_fit
from vaultrag.config.settings import Settings
from vaultrag.service.ops.doctor_report import Finding

DISK_MIN_GB = 2.0
DISK_MIN_SHARE = 0.05


def vault_findings(settings: Settings) -> list[Finding]:
    try:
        vault = settings.vault_path
    except VaultragError as exc:
        return [Finding("error", "no vault is configured", str(exc).split(": ", 1)[-1])]
    fix = "pass --vault with your Obsidian vault's folder, or set vault.path in the config file"
    if not vault.exists():
        return [Finding("error", f"the vault {vault} does not exist", fix)]
    if not vault.is_dir():
        return [Finding("error", f"the vault {vault} is not a folder", fix)]
    try:
        with os.scandir(vault) as entries:
            next(entries, None)
    except OSError as exc:
        return [Finding("error", f"the vault {vault} cannot be read ({exc.strerror})",
                        f"give this user read access: `chmod -R u+rX '{vault}'`")]
    return []


def fit_findings(settings: Settings, catalogue: Catalogue, profile: HardwareProfile, ram: float | None,
                 weights: float, where: str | None, room: Budget) -> list[Finding]:
    """The LLM does not fit (an error), or fits only on the CPU at a size that makes answers slow (a warning)."""
    model, context = settings.llm.model, settings.llm.context_tokens
    slow = where == "cpu" and weights > CPU_MAX_WEIGHTS_GB
    if ram is None or (where and not slow):
        return []
    smaller = smaller_fit(model, profile, catalogue, context_tokens=context, reserved_gb=room.reserved_gb)
    if slow:
        return [Finding("warning", f"{model} runs on the CPU with {weights:.1f} GB of weights: expect slow answers "
                                   "(a few tokens per second)",
                        f"for quicker answers set llm.model = \"{smaller.model}\"" if smaller
                        else "use a machine with a GPU")]
    return [Finding("error", f"{model} needs about {ram:.1f} GB at {context} tokens of context, more than this "
                             f"machine can give it ({max(room.gpu_gb, room.ram_gb):.1f} GB)",
                    f"set llm.model = \"{smaller.model}\" (`ollama pull {smaller.model}`): {smaller.reason}"
                    if smaller else "lower llm.context_tokens, or use a machine with more memory")]


def disk_findings(profile: HardwareProfile, data_dir: Path | None) -> list[Finding]:
    free, total = profile.disk_free_gb, profile.disk_total_gb
    if free is None or not total or (free >= DISK_MIN_GB and free / total >= DISK_MIN_SHARE):
        return []
    where = f"the data dir ({data_dir})" if data_dir else "your home folder"
    return [Finding("warning", f"the disk holding {where} has {free:.1f} GB free ({free / total:.0%})",
                    "free some space, or move the index to a roomier disk with data.dir")]


def port_findings(settings: Settings, holder: dict) -> list[Finding]:
    """Whether the daemon could bind its address; a vaultrag daemon of this vault holding it is fine."""
    host, port = settings.server.host, settings.server.port
    try:
        family, kind, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind) as probe_socket:
            probe_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            probe_socket.bind(address)
        return []
    except OSError as exc:
        if holder.get("port") == port and alive(holder):
            return []
        busy = exc.errno == errno.EADDRINUSE
        return [Finding("error", f"port {port} on {host} " + ("is in use by another program" if busy
                                                              else f"cannot be bound ({exc.strerror or exc})"),
                        f"stop that program, or choose another port: server.port = {port + 1} in the config file "
                        f"or `vaultrag serve --port {port + 1}`" if busy else "check server.host")]


def alive(holder: dict) -> bool:
    """Whether the process that recorded itself in the writer lock still runs."""
    pid = holder.get("pid")
    return isinstance(pid, int) and psutil.pid_exists(pid)
