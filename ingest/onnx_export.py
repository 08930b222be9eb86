"""Turning a sentence-transformers model on disk into ONNX files, once, on this machine and offline: fp32 by
torch.onnx.export of its transformer, int8 by ONNX Runtime's dynamic quantization of that file.

The files are cached under vaultrag's data dir (models/onnx/<key>/), keyed by the model's id and its weights file
(size and mtime), so a changed model is exported again. Each file is written under a temporary name and renamed
into place, under a file lock: two processes that want the same file export it once, and a crash leaves no half
file behind.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import os
import time
from pathlib import Path

import platformdirs
from filelock import FileLock

from vaultrag.config.settings import APP_NAME
from vaultrag.ingest.embedder import ModelFiles

log = logging.getLogger(__name__)

EXPORT_VERSION = 2  # bump to export every cached model again (a change in how it is exported)
OPSET = 17
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def cache_dir(files: ModelFiles) -> Path:
    """Where the ONNX files of `files` are cached."""
    weights = sorted(files.folder.glob("*.safetensors"))
    stamp = "|".join(f"{w.name}:{w.stat().st_size}:{w.stat().st_mtime_ns}" for w in weights)
    key = hashlib.sha256(f"{EXPORT_VERSION}\0{files.model_id}\0{stamp}".encode()).hexdigest()[:16]
    root = Path(platformdirs.user_data_dir(APP_NAME)) / "models" / "onnx"
    return root / f"{files.model_id.rsplit('/', 1)[-1]}-{key}"


def onnx_file(files: ModelFiles, precision: str) -> Path:
    """The ONNX file of `files` in `precision` ("fp32" or "int8"), exported first if it is not cached."""
    folder = cache_dir(files)
    target = folder / f"model-{precision}.onnx"
    if target.is_file():
        return target
    source = onnx_file(files, "fp32") if precision == "int8" else None  # int8 is made from fp32 (outside the lock)
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder / "export.lock")):
        if target.is_file():  # another process exported it while this one waited
            return target
        started = time.monotonic()
        if source is not None:
            _quantize(source, target)
        else:
            _export(files, target)
        log.info("exported %s to ONNX (%s) in %.1f s: %s", files.model_id, precision, time.monotonic() - started,
                 target)
    return target


def _tmp(target: Path) -> Path:
    return target.with_name(f".{target.stem}.{os.getpid()}.tmp.onnx")


def _publish(tmp: Path, target: Path) -> None:
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, target)


def _export(files: ModelFiles, target: Path) -> None:
    """The transformer's last hidden state as an ONNX graph with dynamic batch and sequence axes (pooling and
    normalising are done outside, in numpy)."""
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(files.folder), local_files_only=True, use_safetensors=True,
                                      attn_implementation="eager")  # plain ops: nothing shape-dependent is traced
    model.eval()
    names = [name for name in INPUTS if name in inspect.signature(model.forward).parameters]

    class Hidden(torch.nn.Module):
        """The model called by keyword with the inputs it takes, giving its last hidden state."""

        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, *inputs):
            return self.model(**dict(zip(names, inputs))).last_hidden_state

    sample = tuple(torch.ones((2, 8), dtype=torch.long) for _ in names)
    axes = {name: {0: "batch", 1: "sequence"} for name in names}
    tmp = _tmp(target)
    try:
        with torch.no_grad():
            torch.onnx.export(Hidden(), sample, str(tmp), input_names=names, output_names=["hidden"],
                              dynamic_axes={**axes, "hidden": {0: "batch", 1: "sequence"}}, opset_version=OPSET,
                              dynamo=False)
        _publish(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _quantize(source: Path, target: Path) -> None:
    """int8 weights for MatMul and Gemm, activations quantized on the fly (no calibration data needed)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = _tmp(target)
    logging.disable(logging.INFO)  # the quantizer logs a line per tensor to the root logger, at INFO
    try:
        quantize_dynamic(str(source), str(tmp), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul", "Gemm"])
        _publish(tmp, target)
    finally:
        logging.disable(logging.NOTSET)
        tmp.unlink(missing_ok=True)
