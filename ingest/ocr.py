"""Text in images and scanned PDF pages, by RapidOCR (rapidocr-onnxruntime, the `vaultrag[ocr]` extra: its wheel
carries its ONNX models, so it runs offline). Without the extra, `ocr_version()` is None and nothing is read.

`ocr_version` is cheap (package metadata, no import) and is what the daemon and `vaultrag doctor` ask; the engine
itself loads only in the parser child (ingest.parse_child), on the first page or image that needs it.
"""

from __future__ import annotations

from importlib import metadata
from importlib.util import find_spec
from pathlib import Path

PACKAGE = "rapidocr-onnxruntime"
MIN_SCORE = 0.5  # text boxes recognised with less confidence are dropped (mostly noise in photos)


def ocr_version() -> str | None:
    """The installed OCR engine's version, or None when the extra is not installed."""
    if find_spec("rapidocr_onnxruntime") is None:
        return None
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        return None


class OcrEngine:
    """RapidOCR, loaded on first use (about a second, and some 200 MB of memory)."""

    def __init__(self):
        self._engine = None

    def __call__(self, image) -> str:
        """The text in `image` (a path, or a numpy array in BGR order), lines in reading order."""
        if self._engine is None:
            from rapidocr_onnxruntime import RapidOCR

            self._engine = RapidOCR()
        # No angle classifier: scans and screenshots are upright, and it costs a model run per line of text.
        found, _ = self._engine(str(image) if isinstance(image, Path) else image, use_cls=False)
        return "\n".join(text for _, text, score in found or [] if float(score) >= MIN_SCORE).strip()
