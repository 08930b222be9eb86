"""The `vaultrag` command line: index a vault and search it. Errors become one line on stderr and exit code 1."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from typing import Annotated, Optional

import typer

from vaultrag.config.errors import VaultragError
from vaultrag.config.settings import load_settings
from vaultrag.service.cli.common import (ConfigOpt, DataDirOpt, JsonOpt, SearchMode, VaultOpt, err,
                                          index_with_progress, out, settings_for)
from vaultrag.service.cli.eval import eval_app
from vaultrag.service.cli.service_commands import service_app

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="A private, local-first assistant for your Obsidian vault.")

app.add_typer(service_app, name="service")
app.add_typer(eval_app, name="eval")

@app.command()
def index(config: ConfigOpt = None, vault: VaultOpt = None, data_dir: DataDirOpt = None, as_json: JsonOpt = False):
    """Bring the index in step with the vault: only new, changed, renamed and deleted notes cost work."""
    settings = settings_for(config, vault, data_dir, resolve=True)
    summary = index_with_progress(settings, quiet=as_json)
    if as_json:
        typer.echo(json.dumps(asdict(summary), ensure_ascii=False, indent=2))
        return
    out.print(f"[bold]{settings.vault_path}[/]: {summary.files_total} notes, {summary.chunks_total} chunks "
              f"({summary.seconds:.1f} s)")
    out.print(f"indexed {summary.indexed}, unchanged {summary.unchanged}, renamed {summary.renamed}, "
              f"deleted {summary.deleted}, skipped {len(summary.skipped)}, failed {len(summary.failed)}; "
              f"chunks +{summary.chunks_added} -{summary.chunks_removed}, {summary.embedded} embedded")
    for kind, items in (("skipped", summary.skipped), ("failed", summary.failed)):
        for item in items:
            out.print(f"  {kind} {item['path']}: {item['reason']}", highlight=False, markup=False)


@app.command()
def search(query: Annotated[Optional[str], typer.Argument(help="What to look for; omit it to type queries one per line.",
                                                          show_default=False)] = None,
           k: Annotated[int, typer.Option("-k", min=1, max=100, help="How many results.")] = 5,
           mode: Annotated[Optional[SearchMode], typer.Option("--mode", help="hybrid (default: retrieval.mode), "
                                                              "dense or bm25.", show_default=False)] = None,
           config: ConfigOpt = None, vault: VaultOpt = None, data_dir: DataDirOpt = None, as_json: JsonOpt = False):
    """Print the chunks of the vault that best match QUERY (filters inline: tag:x path:Work/ after:2025-01-01)."""
    from vaultrag.service.search.searcher import Searcher

    settings = settings_for(config, vault, data_dir)
    searcher = Searcher(settings)
    try:
        if query is not None:
            _print_results(searcher.search(query, k, mode and mode.value), as_json)
            return
        interactive = sys.stdin.isatty()
        if interactive:
            err.print("Type a question and press Enter (Ctrl-D to quit).")
        while True:
            line = input("search> " if interactive else "")
            if line.strip():
                _print_results(searcher.search(line.strip(), k, mode and mode.value), as_json)
    except (EOFError, KeyboardInterrupt):
        pass
    finally:
        searcher.close()


@app.command()
def doctor(config: ConfigOpt = None, vault: VaultOpt = None, data_dir: DataDirOpt = None, as_json: JsonOpt = False):
    """Check this machine and the settings: the plan, what fits, and what to fix (exit 1 when something blocks)."""
    from vaultrag.service.ops.doctor import run_doctor

    raise typer.Exit(run_doctor(settings_for(config, vault, data_dir), as_json))


@app.command()
def ask(question: Annotated[str, typer.Argument(help="A question about your notes.")],
        config: ConfigOpt = None, vault: VaultOpt = None, data_dir: DataDirOpt = None):
    """Answer QUESTION from your notes with the configured LLM, streaming, then list the sources."""
    from vaultrag.service.answering.answerer import Answerer
    from vaultrag.service.llm.base import ChatOptions
    from vaultrag.service.llm.factory import make_backend
    from vaultrag.service.search.searcher import Searcher

    settings = settings_for(config, vault, data_dir, resolve=True)
    llm = settings.llm
    backend = make_backend(llm.backend, llm.base_url, llm.api_key, llm.keep_alive, llm.auto_pull)
    searcher = Searcher(settings)
    try:
        answerer = Answerer(settings, searcher, backend)
        plan = answerer.plan([{"role": "user", "content": question}], llm.model)
        for piece in answerer.stream(plan, llm.model, ChatOptions(temperature=llm.temperature, max_tokens=llm.answer_tokens),
                                     sources_list=False):
            if isinstance(piece, str):
                out.print(piece, end="", highlight=False, markup=False)
        out.print()
        if plan.sources:
            out.print("\n[bold]Sources[/]")
        for s in plan.sources:
            out.print(f"{s.n}. {s.heading}  [dim]{s.path}[/]  [link={s.obsidian_url}]{s.obsidian_url}[/link]", highlight=False)
    finally:
        searcher.close()


def _print_results(results, as_json: bool) -> None:
    from vaultrag.service.search.searcher import results_json

    if as_json:
        typer.echo(json.dumps(results_json(results), ensure_ascii=False, indent=2))
        return
    if not results:
        out.print("No results. Has the vault been indexed? Run `vaultrag index`.")
    for n, r in enumerate(results, start=1):
        out.print(f"[bold]{n}. {r.heading}[/]  [dim]{r.path}  score {r.score:.3f}[/]", highlight=False)
        out.print(r.text[:600] + ("…" if len(r.text) > 600 else ""), highlight=False, markup=False)
        out.print(f"[link={r.obsidian_url}]{r.obsidian_url}[/link]\n", style="blue", highlight=False)


@app.command()
def serve(config: ConfigOpt = None, vault: VaultOpt = None, data_dir: DataDirOpt = None,
          port: Annotated[Optional[int], typer.Option("--port", help="HTTP port (default 8765).", show_default=False)] = None,
          host: Annotated[Optional[str], typer.Option("--host", help="Address to bind (default 127.0.0.1).",
                                                      show_default=False)] = None,
          insecure: Annotated[bool, typer.Option("--insecure", help="Allow a non-loopback address without an API key.")] = False):
    """Run the daemon: keep the index in step with the vault and answer over HTTP until stopped."""
    from vaultrag.service.daemon.serve import serve as run_daemon

    run_daemon(load_settings(config, {"vault.path": str(vault) if vault else None,
                                      "data.dir": str(data_dir) if data_dir else None, "server.port": port,
                                      "server.host": host}), insecure=insecure)


@app.command()
def status(config: ConfigOpt = None, vault: VaultOpt = None, data_dir: DataDirOpt = None, as_json: JsonOpt = False):
    """Show the running daemon's status, or the index's when no daemon runs."""
    from vaultrag.service.daemon.client import current_status

    settings = settings_for(config, vault, data_dir)
    state = current_status(settings)
    if as_json:
        typer.echo(json.dumps(state, ensure_ascii=False, indent=2))
        return
    out.print(f"[bold]{state['vault']}[/]: {state['state']}" + (f" ({state['progress']:.0%})" if state["state"] == "indexing" else ""))
    out.print(f"{state['files_indexed']} of {state['files_total']} notes indexed, {state['files_pending']} pending, "
              f"{state['files_failed']} skipped or failed; {state['chunks']} chunks; model {state['embedding_model'] or '-'}; "
              f"last sync {state['last_sync'] or 'never'}")
    for item in state["failed"]:
        out.print(f"  {item['path']}: {item['reason']}", highlight=False, markup=False)


def main() -> None:
    try:
        app()
    except VaultragError as exc:
        err.print(f"vaultrag: {exc}", highlight=False, markup=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
