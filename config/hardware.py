"""What this machine has to run models with: RAM, cores, free disk, GPUs, OS and architecture.

`probe()` measures the machine; `HardwareProfile` is plain data, so a test can describe any machine by hand:

    HardwareProfile(ram_total_gb=16, os="Darwin", arch="arm64", gpus=(Gpu("Apple M2", "apple", 16, unified=True),))

Sizes are in GiB (2**30 bytes), as operating systems report RAM. GPUs: NVIDIA cards through `nvidia-smi` when it
is on PATH; Apple Silicon (arm64 macOS), whose GPU shares the machine's RAM ("unified memory") through Metal/MPS.
"""

from __future__ import annotations

import platform
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psutil

GIB = 2**30
NVIDIA_SMI_QUERY = ["nvidia-smi", "--query-gpu=name,memory.total,memory.free", "--format=csv,noheader,nounits"]
NVIDIA_SMI_TIMEOUT_S = 5


@dataclass(frozen=True)
class Gpu:
    """One GPU. `unified`: it shares the system RAM (Apple Silicon) instead of having memory of its own."""

    name: str
    vendor: str  # "nvidia" or "apple"
    memory_total_gb: float
    memory_free_gb: float | None = None
    unified: bool = False


@dataclass(frozen=True)
class HardwareProfile:
    """A machine as model selection sees it. Only `ram_total_gb` is required; the rest defaults to a plain PC."""

    ram_total_gb: float
    ram_available_gb: float | None = None  # None: unknown (a hand-made profile)
    cores_physical: int = 4
    cores_logical: int = 8
    disk_free_gb: float | None = None  # under the folder probed (the data dir)
    disk_total_gb: float | None = None
    os: str = "Linux"  # platform.system(): Linux, Darwin, Windows
    arch: str = "x86_64"  # platform.machine(): x86_64, arm64, aarch64, AMD64
    gpus: tuple[Gpu, ...] = ()

    @property
    def apple_silicon(self) -> bool:
        return any(gpu.unified for gpu in self.gpus)

    @property
    def vram_gb(self) -> float:
        """Memory on discrete GPUs, all cards together (Ollama splits a model that fits none alone across them)."""
        return sum(gpu.memory_total_gb for gpu in self.gpus if not gpu.unified)

    @property
    def accelerator(self) -> str:
        """Where models can run fastest: "cuda" (NVIDIA), "mps" (Apple Silicon) or "cpu"."""
        if self.vram_gb > 0:
            return "cuda"
        return "mps" if self.apple_silicon else "cpu"


def probe(folder: Path | None = None) -> HardwareProfile:
    """Measure this machine; disk space is that of the file system holding `folder` (default: the home folder)."""
    memory = psutil.virtual_memory()
    system, machine = platform.system(), platform.machine()
    disk = shutil.disk_usage(_existing(folder or Path.home()))
    gpus = nvidia_gpus()
    if system == "Darwin" and machine == "arm64":
        gpus += (Gpu(_apple_chip(), "apple", memory.total / GIB, unified=True),)
    return HardwareProfile(
        ram_total_gb=memory.total / GIB, ram_available_gb=memory.available / GIB,
        cores_physical=psutil.cpu_count(logical=False) or 1, cores_logical=psutil.cpu_count() or 1,
        disk_free_gb=disk.free / GIB, disk_total_gb=disk.total / GIB, os=system, arch=machine, gpus=gpus)


def nvidia_gpus() -> tuple[Gpu, ...]:
    """The NVIDIA GPUs `nvidia-smi` lists; none when it is missing, fails or does not answer within 5 s."""
    if shutil.which("nvidia-smi") is None:
        return ()
    try:
        done = subprocess.run(NVIDIA_SMI_QUERY, capture_output=True, text=True, timeout=NVIDIA_SMI_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError):
        return ()
    return parse_nvidia_smi(done.stdout) if done.returncode == 0 else ()


def parse_nvidia_smi(text: str) -> tuple[Gpu, ...]:
    """GPUs from `nvidia-smi --query-gpu=name,memory.total,memory.free --format=csv,noheader,nounits` (MiB).

    Lines that do not read as "name, total, free" are skipped; a free value of "[N/A]" becomes None.
    """
    gpus = []
    for line in text.splitlines():
        parts = [part.strip() for part in line.rsplit(",", 2)]
        if len(parts) != 3 or not parts[0]:
            continue
        total, free = _mib(parts[1]), _mib(parts[2])
        if total:
            gpus.append(Gpu(parts[0], "nvidia", total / 1024, None if free is None else free / 1024))
    return tuple(gpus)


def _mib(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number >= 0 else None


def _apple_chip() -> str:
    """The chip's name ("Apple M2 Pro"), from sysctl; "Apple Silicon" when it does not say."""
    try:
        done = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return "Apple Silicon"
    return done.stdout.strip() or "Apple Silicon"


def _existing(folder: Path) -> Path:
    """`folder`, or its nearest ancestor that exists (a data dir not created yet)."""
    folder = folder.expanduser().absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder
