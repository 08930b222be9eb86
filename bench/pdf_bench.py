"""PDF text extraction and OCR in the parser child: pages per second, the child's peak memory, the cost of starting
a child, and the share of a full index that reading PDFs takes next to embedding their chunks.

    python bench/pdf_bench.py                     # a 200-page text PDF, 20 one-page PDFs, a 5-page scan (with OCR)
    python bench/pdf_bench.py --pages 500 --small 50

The PDFs are made here (Chromium prints generated text; Pillow writes the scan, pages that are only images), in a
temporary folder. Prints one table. Linux: the child's peak memory is its VmHWM from /proc.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.pdf_files import make_pdf, scanned_pdf  # noqa: E402
from vaultrag.config.settings import load_settings  # noqa: E402
from vaultrag.ingest import isolation  # noqa: E402
from vaultrag.ingest.embedder import BUNDLED_MODEL, Embedder, locate_model  # noqa: E402
from vaultrag.ingest.isolation import ParseLimits, ParserProcess  # noqa: E402
from vaultrag.ingest.ocr import ocr_version  # noqa: E402
from vaultrag.ingest.pipeline import sync_vault  # noqa: E402

_LISTS = json.loads((ROOT / "bench" / "generate_vault_words.json").read_text())["english"]
WORDS = [word for key in ("general_nouns", "general_verbs", "adjectives", "adverbs") for word in _LISTS[key]]


def text_pages(n: int, seed: int) -> list[str]:
    """Pages of 350 of the generator's English words."""
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(350)) for _ in range(n)]


def peak_mb(parser: ParserProcess) -> float:
    """The live child's peak resident memory (VmHWM), in MB."""
    status = Path(f"/proc/{parser._child.pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))) / 1024


def timed_reads(parser: ParserProcess, files: list[Path]) -> tuple[float, int]:
    started, pages = time.perf_counter(), 0
    for file in files:
        pages += len(parser.read(file, "pdf", file.name)["pages"])
    return time.perf_counter() - started, pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=200, help="pages of the large text PDF")
    parser.add_argument("--small", type=int, default=20, help="one-page PDFs, for the cost per file")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vaultrag-pdf-bench-"))
    try:
        rows = run(work, args.pages, args.small)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("| measure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


def run(work: Path, n_pages: int, n_small: int) -> list[tuple[str, str]]:
    vault = work / "vault"
    big = make_pdf(vault / "Papers/big.pdf", text_pages(n_pages, 1), title="Big report")
    small = [make_pdf(vault / f"Small/one-{i}.pdf", text_pages(1, 100 + i)) for i in range(min(n_small, 1))]
    for i in range(1, n_small):  # the same page layout, each with its own text would cost a Chromium run apiece
        small.append(make_pdf(vault / f"Small/one-{i}.pdf", text_pages(1, 100 + i)) if i < 3 else
                     Path(shutil.copy(small[i % 3], vault / f"Small/one-{i}.pdf")))
    rows = []

    child = ParserProcess(ParseLimits())
    started = time.perf_counter()
    child.read(small[0], "pdf", small[0].name)
    first_s = time.perf_counter() - started
    per_file_s, _ = timed_reads(child, small[1:])
    per_file_s /= max(len(small) - 1, 1)
    rows += [("child start + first 1-page PDF", f"{first_s * 1000:.0f} ms"),
             ("each further 1-page PDF (child running)", f"{per_file_s * 1000:.1f} ms")]
    seconds, pages = timed_reads(child, [big] * 3)
    rows += [(f"text extraction, {n_pages}-page PDF", f"{pages / seconds:.0f} pages/s"),
             ("parser child peak RSS, text only", f"{peak_mb(child):.0f} MB")]
    child.close()

    if ocr_version():
        scan = scanned_pdf(work / "scan.pdf", text_pages(5, 7))
        ocr = ParserProcess(ParseLimits(ocr=True))
        ocr.read(small[0], "pdf", small[0].name)  # the child started; the OCR engine loads on the first scan page
        seconds, pages = timed_reads(ocr, [scan])
        again, _ = timed_reads(ocr, [scan])
        rows += [("OCR, first 5-page scan (engine load included)", f"{seconds / pages:.2f} s/page"),
                 ("OCR, scanned pages after that", f"{again / pages:.2f} s/page"),
                 ("parser child peak RSS, with OCR", f"{peak_mb(ocr):.0f} MB")]
        ocr.close()
    else:
        rows.append(("OCR", "not measured: install vaultrag[ocr] (and Pillow) to"))

    rows += share_of_indexing(vault, work / "data")
    return rows


def share_of_indexing(vault: Path, data: Path) -> list[tuple[str, str]]:
    """A full index of the PDFs, timing the parser's reads and the model's encoding inside it."""
    spent = {"read": 0.0, "embed": 0.0}
    embedder = Embedder(locate_model(BUNDLED_MODEL), device="cpu")

    def timing(name, function):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - started
        return timed

    isolation.ParserProcess.read = timing("read", isolation.ParserProcess.read)
    embedder.embed = timing("embed", embedder.embed)
    settings = load_settings(overrides={"vault.path": str(vault), "data.dir": str(data), "vault.ocr": False},
                             environ={})
    started = time.perf_counter()
    summary = sync_vault(settings, embedder=embedder)
    total = time.perf_counter() - started
    return [(f"full index: {summary.files_total} PDFs, {summary.chunks_total} chunks", f"{total:.1f} s"),
            ("  reading PDFs (parser child)", f"{spent['read']:.1f} s ({spent['read'] / total:.0%})"),
            ("  embedding their chunks", f"{spent['embed']:.1f} s ({spent['embed'] / total:.0%})")]


if __name__ == "__main__":
    main()
