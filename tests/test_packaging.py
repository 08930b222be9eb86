"""What gets installed: the wheel built from the repository holds one `vaultrag` namespace with every module and
its data, and nothing generic at the top level; the venv's python imports `vaultrag`, not `service`, `config` or
`ingest`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LAYERS = ("config", "ingest", "service")


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory) -> set[str]:
    """The file list (and, as "entry point: NAME = TARGET", the console scripts) of a wheel built from a copy of
    the repository's package folders (so the build leaves its build/ and .egg-info there, not in the working tree),
    with the venv's setuptools: nothing is downloaded."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    for layer in LAYERS:
        shutil.copytree(REPO / layer, source / layer, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out)],
                          cwd=source, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (wheel,) = out.glob("vaultrag-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (entry_points,) = [name for name in names if name.endswith(".dist-info/entry_points.txt")]
        return names | {f"entry point: {line.strip()}" for line in archive.read(entry_points).decode().splitlines()
                        if "=" in line}


def _repo_files(pattern: str) -> set[str]:
    """`pattern` under the package folders, as the wheel names them (vaultrag/<layer>/...)."""
    return {f"vaultrag/{path.relative_to(REPO).as_posix()}" for layer in LAYERS
            for path in (REPO / layer).rglob(pattern) if "__pycache__" not in path.parts}


@pytest.mark.slow
def test_the_wheel_holds_every_module_and_its_data(wheel_files):
    modules = _repo_files("*.py")
    assert len(modules) > 50
    assert sorted(modules - wheel_files) == []
    data = _repo_files("*.toml") | _repo_files("*.html")
    assert {"vaultrag/config/default.toml", "vaultrag/config/models.toml",
            "vaultrag/service/http/status_page.html"} <= data
    assert sorted(data - wheel_files) == []


@pytest.mark.slow
def test_the_wheel_installs_nothing_generic_at_the_top_level(wheel_files):
    files = {name for name in wheel_files if not name.startswith("entry point: ")}
    top = {name.split("/", 1)[0] for name in files}
    dist_info = {name for name in top if name.endswith(".dist-info")}
    assert top - dist_info == {"vaultrag"} and len(dist_info) == 1
    assert not any(name.startswith(f"{layer}/") for name in files for layer in LAYERS)


@pytest.mark.slow
def test_the_wheel_gives_the_vaultrag_command(wheel_files):
    assert "entry point: vaultrag = vaultrag.service.cli.main:main" in wheel_files


def test_the_venv_imports_vaultrag_and_no_generic_names(tmp_path):
    probe = ("import importlib.util, vaultrag.service.cli.main as cli\n"
             "print(cli.main.__module__)\n"
             "print([name for name in ('service', 'config', 'ingest') if importlib.util.find_spec(name)])\n")
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["vaultrag.service.cli.main", "[]"]
