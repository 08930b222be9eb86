"""`vaultrag doctor`'s row for PDFs, boards, drawings and OCR: what is indexed, how, and whether OCR is there."""

from __future__ import annotations

from vaultrag.ingest.ocr import ocr_version
from vaultrag.service.ops.doctor_documents import documents_row


def test_the_row_names_the_pdf_limits_and_whether_ocr_reads_images(tmp_path, settings_for):
    row = documents_row(settings_for(tmp_path, **{"vault.max_pdf_pages": 50, "vault.parse_timeout_s": 30,
                                                  "vault.ocr_page_timeout_s": 90}))
    assert "PDFs, Canvas boards" in row.tool and "up to 50 pages" in row.tool and "30 s a file" in row.tool
    if ocr_version() is None:
        assert 'OCR: not installed (pip install "vaultrag[ocr]"' in row.tool and "images" not in row.why
    else:
        assert f"rapidocr-onnxruntime {ocr_version()}, about 4 s a scanned page" in row.tool and "images" in row.why
        assert "at most 90 s a page, 7200 s a file" in row.tool
    off = documents_row(settings_for(tmp_path, **{"vault.ocr": False, "vault.include": ["**/*.md"]}))
    assert off.tool.startswith("indexes Markdown and Excalidraw;") and "images" not in off.why
    if ocr_version() is not None:
        assert "installed, off (vault.ocr = false)" in off.tool
