"""Real PDFs made for the tests, never downloaded: headless Chromium prints HTML pages to PDF (one page per
`pages` entry); pypdf (a test dependency) encrypts one; cutting one short or garbling it makes a corrupt one."""

from __future__ import annotations

import html
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def make_pdf(path: Path, pages: list[str], title: str = "") -> Path:
    """A PDF at `path` with one page per text in `pages` (each a paragraph or more), titled `title` (or none)."""
    if CHROMIUM is None:
        pytest.skip("no Chromium to print test PDFs with (apt-get install chromium)")
    body = "".join(f'<div style="page-break-after: always"><p>{html.escape(text)}</p></div>' for text in pages)
    head = f"<title>{html.escape(title)}</title>" if title else ""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp, "doc.html")
        source.write_text(f"<!doctype html><html><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>",
                          encoding="utf-8")
        out = Path(tmp, "out.pdf")
        subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={tmp}/profile", "--no-pdf-header-footer", f"--print-to-pdf={out}",
                        source.as_uri()], check=True, capture_output=True, timeout=120)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out, path)
    return path


def encrypt_pdf(source: Path, path: Path, password: str = "secret") -> Path:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password=password, owner_password=password, algorithm="AES-256")
    with open(path, "wb") as out:
        writer.write(out)
    return path


def corrupt_pdf(path: Path) -> Path:
    """Bytes that start like a PDF and are none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n" + bytes(range(256)) * 8)
    return path
