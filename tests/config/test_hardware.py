"""The hardware probe on this machine, nvidia-smi's output read defensively, and hand-made profiles."""

from __future__ import annotations

import platform

import pytest

from vaultrag.config.hardware import Gpu, HardwareProfile, nvidia_gpus, parse_nvidia_smi, probe

SMI_OUTPUT = """\
NVIDIA GeForce RTX 3060, 12288, 11530
NVIDIA A100-SXM4-80GB, 81920, [N/A]
"""


def test_the_real_probe_returns_sane_numbers(tmp_path):
    found = probe(tmp_path / "data dir not created yet")
    assert 0.25 < found.ram_total_gb < 16384
    assert 0 < found.ram_available_gb <= found.ram_total_gb
    assert 1 <= found.cores_physical <= found.cores_logical
    assert 0 <= found.disk_free_gb <= found.disk_total_gb
    assert (found.os, found.arch) == (platform.system(), platform.machine())
    assert found.accelerator in ("cpu", "cuda", "mps")
    assert all(gpu.memory_total_gb > 0 for gpu in found.gpus)


def test_nvidia_smi_lines_become_gpus_in_gib():
    rtx, a100 = parse_nvidia_smi(SMI_OUTPUT)
    assert rtx == Gpu("NVIDIA GeForce RTX 3060", "nvidia", 12.0, 11530 / 1024)
    assert (a100.name, a100.memory_total_gb, a100.memory_free_gb) == ("NVIDIA A100-SXM4-80GB", 80.0, None)


@pytest.mark.parametrize("text", ["", "No devices were found\n", "Tesla K80, [Not Supported], 100\n",
                                  ", 8192, 8000\n", "NVIDIA T4, -1, 10\n", "garbage\n\n"])
def test_nvidia_smi_lines_that_make_no_sense_are_skipped(text):
    assert parse_nvidia_smi(text) == ()


def test_a_gpu_name_with_a_comma_keeps_it():
    assert parse_nvidia_smi("NVIDIA RTX A6000, Ada, 49140, 48000\n")[0].name == "NVIDIA RTX A6000, Ada"


def _fake_smi(tmp_path, monkeypatch, script: str) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    smi = bin_dir / "nvidia-smi"
    smi.write_text("#!/bin/sh\n" + script)
    smi.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))


def test_nvidia_smi_on_path_is_asked(tmp_path, monkeypatch):
    _fake_smi(tmp_path, monkeypatch, f"printf '{SMI_OUTPUT}'\n")
    assert [gpu.memory_total_gb for gpu in nvidia_gpus()] == [12.0, 80.0]


def test_a_failing_nvidia_smi_means_no_gpu(tmp_path, monkeypatch):
    _fake_smi(tmp_path, monkeypatch, "echo 'NVIDIA-SMI has failed' >&2\nexit 9\n")
    assert nvidia_gpus() == ()


def test_no_nvidia_smi_means_no_gpu(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert nvidia_gpus() == ()


def test_profiles_by_hand_say_where_models_run():
    laptop = HardwareProfile(ram_total_gb=8)
    mac = HardwareProfile(ram_total_gb=16, os="Darwin", arch="arm64",
                          gpus=(Gpu("Apple M2", "apple", 16, unified=True),))
    pc = HardwareProfile(ram_total_gb=32, gpus=(Gpu("RTX 3060", "nvidia", 12), Gpu("RTX 3060", "nvidia", 12)))
    assert (laptop.accelerator, laptop.vram_gb, laptop.apple_silicon) == ("cpu", 0, False)
    assert (mac.accelerator, mac.vram_gb, mac.apple_silicon) == ("mps", 0, True)
    assert (pc.accelerator, pc.vram_gb) == ("cuda", 24)
