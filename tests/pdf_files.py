"""Real PDFs made for the tests, never downloaded: headless Chromium prints HTML pages to PDF (one page per
`pages` entry); pypdf (a test dependency) encrypts one and joins others; Pillow saves images of text as a scan;
cutting one short or garbling it makes a corrupt one; a page of millions of tiny text objects makes a memory bomb."""

from __future__ import annotations

import html
import shutil
import subprocess
import tempfile
import zlib
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def make_pdf(path: Path, pages: list[str], title: str = "") -> Path:
    """A PDF at `path` with one page per text in `pages` (each a paragraph or more), titled `title`, or with no
    title at all (Chromium's own, the printed HTML file's name, is taken out)."""
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
        if title:
            shutil.copyfile(out, path)
        else:
            _untitled(out, path)
    return path


def _untitled(source: Path, path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(source))
    writer.metadata = None
    with open(path, "wb") as out:
        writer.write(out)


def scanned_pdf(path: Path, pages: list[str], size: int = 28) -> Path:
    """A PDF whose pages are images of text (no text layer), as a scanner makes: 40 lines of 12 words at most."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=size)
    images = []
    for text in pages:
        image = Image.new("RGB", (1700, 2200), "white")
        words, lines = text.split(), []
        while words:
            lines.append(" ".join(words[:12]))
            words = words[12:]
        ImageDraw.Draw(image).multiline_text((100, 100), "\n".join(lines[:40]), fill="black", font=font, spacing=18)
        images.append(image)
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(path, save_all=True, append_images=images[1:], resolution=200)
    return path


def joined_pdf(path: Path, parts: list[Path]) -> Path:
    """The pages of the PDFs `parts`, in order, as one PDF."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for part in parts:
        writer.append(str(part))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        writer.write(out)
    return path


def memory_bomb_pdf(path: Path, objects: int = 2_000_000) -> Path:
    """A one-page PDF of some 20 KB whose page draws `objects` one-letter text objects: PDFium needs about 600 bytes of
    memory for each to read the page (2,000,000: over a gigabyte), as a hostile PDF meant to exhaust memory would."""
    content = zlib.compress(b"BT /F1 12 Tf 10 10 Td " + b"(a) Tj " * objects + b"ET", 9)
    bodies = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
              b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> "
              b"/Contents 4 0 R >>",
              b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content) + content + b"\nendstream",
              b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    data, offsets = bytearray(b"%PDF-1.7\n"), []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(data))
        data += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(data)
    data += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    data += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(bodies) + 1, xref)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(data))
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
