"""Hugging Face's libraries kept offline: the switches they read once, when first imported, set before that."""

from __future__ import annotations

import os

# huggingface_hub reads HF_HUB_OFFLINE into a constant at import; transformers reads TRANSFORMERS_OFFLINE.
# Set unconditionally: a global HF_HUB_OFFLINE=0 in the user's shell must not turn downloads back on.
SWITCHES = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
            "HF_HUB_DISABLE_TELEMETRY": "1"}


def stay_offline() -> None:
    """Nothing vaultrag loads may reach Hugging Face; `vaultrag models pull` is the one, explicit exception."""
    os.environ.update(SWITCHES)
