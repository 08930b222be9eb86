"""`vaultrag eval beir PATH`: retrieval quality and latency on a BEIR-format dataset, printed as a table or JSON."""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from vaultrag.service.cli.common import index_with_progress, out, settings_for

eval_app = typer.Typer(no_args_is_help=True, help="Measure retrieval quality on a benchmark dataset.")


@eval_app.command("beir")
def beir(path: Annotated[Path, typer.Argument(help="A BEIR dataset folder: corpus.jsonl, queries.jsonl, qrels/.")],
         split: Annotated[str, typer.Option("--split", help="Which qrels/<split>.tsv to score (train, dev, test).")] = "test",
         mode: Annotated[Optional[str], typer.Option("--mode", help="dense, bm25 or hybrid (default: all three).",
                                                     show_default=False)] = None,
         work: Annotated[Optional[Path], typer.Option("--work", help="Keep the notes and index here, so another run "
                                                      "indexes nothing (default: a throwaway folder).",
                                                      show_default=False)] = None,
         config: Annotated[Optional[Path], typer.Option("--config", help="Settings file (TOML): the embedding model "
                                                        "and retrieval settings to measure.", show_default=False)] = None,
         as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False):
    """Index a BEIR dataset (each document one note, titled by its title) and print nDCG@10, Recall@10/@100,
    MRR@10 and query latency per retrieval mode."""
    from vaultrag.config.errors import ConfigError
    from vaultrag.service.ops.beir_eval import MODES, evaluate, load_beir, write_notes

    if mode is not None and mode not in MODES:
        raise ConfigError(f"--mode {mode!r}: use one of {', '.join(MODES)}")
    dataset = load_beir(path, split)
    with tempfile.TemporaryDirectory(prefix="vaultrag-beir-") as throwaway:
        folder = work or Path(throwaway)
        paths = write_notes(dataset, folder / "notes")
        settings = settings_for(config, folder / "notes", folder / "data", resolve=True)
        summary = index_with_progress(settings, quiet=as_json)
        results = evaluate(settings, dataset, paths, [mode] if mode else list(MODES))
    report = {"dataset": str(path), "split": split, "documents": len(dataset.documents), "queries": len(dataset.queries),
              "embedding_model": settings.embedding.model, "chunks": summary.chunks_total,
              "index_seconds": summary.seconds, "results": {m: asdict(s) for m, s in results.items()}}
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    table = Table(title=f"{path.name} ({split}): {report['documents']} documents, {report['queries']} queries, "
                        f"{settings.embedding.model}")
    for column in ("mode", "nDCG@10", "Recall@10", "Recall@100", "MRR@10", "p50 ms", "p95 ms"):
        table.add_column(column, justify="left" if column == "mode" else "right")
    for name, s in results.items():
        table.add_row(name, f"{s.ndcg_10:.4f}", f"{s.recall_10:.4f}", f"{s.recall_100:.4f}", f"{s.mrr_10:.4f}",
                      f"{s.p50_ms:.1f}", f"{s.p95_ms:.1f}")
    out.print(table)
