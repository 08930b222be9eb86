"""`vaultrag models pull NAME`: fetch a model once, saying what is downloaded from where and into which folder."""

from __future__ import annotations

from typing import Annotated

import typer

from vaultrag.service.cli.common import out

models_app = typer.Typer(no_args_is_help=True, help="Fetch a model explicitly: nothing else in vaultrag downloads.")


@models_app.command("pull")
def pull(name: Annotated[str, typer.Argument(help="A Hugging Face model id, e.g. cross-encoder/ms-marco-MiniLM-L-6-v2.")]):
    """Download NAME's configuration, tokenizer and safetensors weights into the Hugging Face cache, where
    embedding.model and retrieval.reranker find it offline. The only vaultrag command that uses the network."""
    from vaultrag.ingest.model_pull import folder_size, plan_pull, pull_model

    plan = plan_pull(name)
    if plan.nothing_to_do:
        out.print(plan.nothing_to_do, highlight=False, markup=False)
        return
    out.print(f"downloading {plan.name} from {plan.source}\n  files: {', '.join(plan.files)} (configuration, "
              f"tokenizer, safetensors weights; never pickled weights)\n  into:  {plan.cache} (the Hugging Face "
              "cache; HF_HOME or HF_HUB_CACHE move it)", highlight=False, markup=False)
    folder = pull_model(plan)
    out.print(f"done: {folder} ({folder_size(folder) / 1e6:.1f} MB)", highlight=False, markup=False)
