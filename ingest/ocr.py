"""Text in images and scanned PDF pages, by RapidOCR (rapidocr-onnxruntime, the `vaultrag[ocr]` extra: its wheel
carries its ONNX models, so it runs offline). Without the extra, `ocr_version()` is None and nothing is read.

`ocr_version` is cheap (package metadata, no import) and is what the daemon and `vaultrag doctor` ask; the engine
itself loads only in the parser child (ingest.parse_child), on the first page or image that needs it.

RapidOCR finds one box per line of text, then reads each box's crop. Its own crops come from the image it shrank for
finding boxes, scaled to the reader's height with a bilinear filter, and on text under about 30 pixels high the reader
then drops the spaces ("alphabetagamma"). So the boxes are cropped here from the full-size image and scaled with a
cubic filter to the reader's height, which keeps them; boxes on one line are joined with spaces, left to right, and
lines with newlines, top to bottom.
"""

from __future__ import annotations

from importlib import metadata
from importlib.util import find_spec
from pathlib import Path

PACKAGE = "rapidocr-onnxruntime"
MIN_SCORE = 0.5  # text boxes recognised with less confidence are dropped (mostly noise in photos)
READER_HEIGHT = 48  # pixels: the height RapidOCR's text reader takes its input at (its Rec.rec_img_shape)


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
        """The text in `image` (a path, or a numpy array in BGR order): words on a line separated by spaces, lines
        top to bottom."""
        if self._engine is None:
            from rapidocr_onnxruntime import RapidOCR

            self._engine = RapidOCR()
        pixels = self._engine.load_img(str(image) if isinstance(image, Path) else image)  # 3-channel BGR
        # Boxes only (no angle classifier: scans and screenshots are upright, and it costs a model run per line).
        boxes, _ = self._engine(pixels, use_cls=False, use_rec=False)
        if not boxes:
            return ""
        read, _ = self._engine.text_rec([_crop(pixels, box) for box in boxes])
        found = [(box, text.strip()) for box, (text, score, *_) in zip(boxes, read)
                 if float(score) >= MIN_SCORE and text.strip()]
        return "\n".join(" ".join(text for _, text in line) for line in _lines(found))


def _crop(pixels, box):
    """The box (four corners, clockwise from top left) cut out of `pixels`, straightened and scaled to the reader's
    height with a cubic filter; a box taller than wide (vertical text) turned to lie flat."""
    import cv2
    import numpy as np

    corners = np.array(box, dtype=np.float32)
    width = max(np.linalg.norm(corners[0] - corners[1]), np.linalg.norm(corners[2] - corners[3]), 1.0)
    height = max(np.linalg.norm(corners[0] - corners[3]), np.linalg.norm(corners[1] - corners[2]), 1.0)
    if height / width >= 1.5:
        corners, width, height = np.roll(corners, -1, axis=0), height, width  # its right side becomes its top
    out_w, out_h = max(1, round(width * READER_HEIGHT / height)), READER_HEIGHT
    transform = cv2.getPerspectiveTransform(corners, np.float32([[0, 0], [out_w, 0], [out_w, out_h], [0, out_h]]))
    return cv2.warpPerspective(pixels, transform, (out_w, out_h), flags=cv2.INTER_CUBIC,
                               borderMode=cv2.BORDER_REPLICATE)


def _lines(found: list) -> list[list]:
    """(box, text) pairs grouped into lines: a box whose middle lies within the first box of a line's height joins
    that line. Lines top to bottom, boxes in a line left to right."""
    lines: list[list] = []
    for box, text in sorted(found, key=lambda item: (_top(item[0]), _left(item[0]))):
        middle = (_top(box) + _bottom(box)) / 2
        line = next((line for line in lines if _top(line[0][0]) <= middle <= _bottom(line[0][0])), None)
        if line is None:
            lines.append([(box, text)])
        else:
            line.append((box, text))
    return [sorted(line, key=lambda item: _left(item[0])) for line in lines]


def _top(box) -> float:
    return min(point[1] for point in box)


def _bottom(box) -> float:
    return max(point[1] for point in box)


def _left(box) -> float:
    return min(point[0] for point in box)
