"""The Ollama backend, through the official `ollama` client: streamed chat, the local model list, and pulls.

Wire format: Ollama's docs/api.md. `/api/chat` streams NDJSON objects whose final one has `done: true` and the
token counts (`prompt_eval_count`, `eval_count`); a missing model is HTTP 404 `{"error": "model ... not found"}`;
`/api/pull` streams `{"status", "digest", "total", "completed"}` progress objects.
"""

from __future__ import annotations

import logging
from typing import Generator

import httpx
import ollama

from vaultrag.config.ollama_host import ollama_url
from vaultrag.service.llm.base import (ChatOptions, Inventory, LLMError, LLMUnavailable, LoadedModel, ModelInfo,
                                       ModelNotFound, Usage)

log = logging.getLogger(__name__)

START_HINT = "start Ollama: `ollama serve`, or open the Ollama app"
# What the ollama client raises when the server is not there or goes away: its own ConnectionError for a refused
# connection on plain requests, httpx's errors on streamed ones (refused, reset, cut off mid-body, timed out).
TRANSPORT_ERRORS = (ConnectionError, httpx.TransportError)


class OllamaBackend:
    """An Ollama server at `host` (see `ollama_url`); `keep_alive` is how long it keeps a model loaded after use."""

    name = "ollama"

    def __init__(self, host: str, keep_alive: str = "5m", auto_pull: bool = False, timeout_s: float = 300):
        self.url = ollama_url(host)
        self._keep_alive = keep_alive
        self._auto_pull = auto_pull
        self._timeout_s = timeout_s
        self._client = ollama.Client(host=self.url, timeout=timeout_s)

    def chat(self, model: str, messages: list[dict], options: ChatOptions,
             num_ctx: int) -> Generator[str | Usage, None, None]:
        """Stream the reply from `/api/chat`; the final `done` object gives the Usage."""
        sent = {"num_ctx": num_ctx, "temperature": options.temperature, "top_p": options.top_p,
                "num_predict": options.max_tokens, "stop": options.stop, "seed": options.seed}
        try:
            for part in self._client.chat(model=model, messages=messages, stream=True, keep_alive=self._keep_alive,
                                          options={key: value for key, value in sent.items() if value is not None}):
                if part.message.content:
                    yield part.message.content
                if part.done:
                    yield Usage(part.prompt_eval_count or 0, part.eval_count or 0)
                    return
        except (ollama.ResponseError, *TRANSPORT_ERRORS) as exc:
            raise self._error(exc, model) from exc
        raise LLMUnavailable(f"Ollama at {self.url} ended the reply before it was done; "
                             f"if it stopped or crashed, {START_HINT}")

    def models(self) -> list[str]:
        """The models pulled into this Ollama (`/api/tags`), as "name:tag"."""
        try:
            return [entry.model for entry in self._client.list().models if entry.model]
        except (ollama.ResponseError, *TRANSPORT_ERRORS) as exc:
            raise self._error(exc, "") from exc

    def inventory(self) -> Inventory:
        """The pulled models with size and quantization (`/api/tags`), those loaded now (`/api/ps`), and the version
        (`/api/version`: the ollama client has no call for it, so httpx asks; "" when it does not answer)."""
        try:
            pulled, running = self._client.list().models, self._client.ps().models
            answer = httpx.get(f"{self.url}/api/version", timeout=self._timeout_s)
        except (ollama.ResponseError, *TRANSPORT_ERRORS) as exc:
            raise self._error(exc, "") from exc
        except ValueError as exc:  # a reply the client cannot read as Ollama's
            raise LLMError(f"{self.url} does not answer as Ollama does: llm.base_url should be Ollama's root URL, "
                           "e.g. http://127.0.0.1:11434") from exc
        try:
            version = str(answer.json().get("version", "")) if answer.is_success else ""
        except (ValueError, AttributeError):
            version = ""
        models = [ModelInfo(entry.model or "", entry.size or 0, getattr(entry.details, "quantization_level", "") or "",
                            getattr(entry.details, "parameter_size", "") or "") for entry in pulled]
        loaded = [LoadedModel(entry.model or entry.name or "", entry.size or 0, entry.size_vram or 0)
                  for entry in running]
        return Inventory(version, models, loaded)

    def ensure_model(self, model: str) -> None:
        """Return when Ollama has `model` (`/api/show`); without it, pull it when auto_pull, else ModelNotFound."""
        try:
            self._client.show(model)
            return
        except ollama.ResponseError as exc:
            if exc.status_code != 404:
                raise self._error(exc, model) from exc
        except TRANSPORT_ERRORS as exc:
            raise self._error(exc, model) from exc
        if not self._auto_pull:
            raise ModelNotFound(f"Ollama at {self.url} does not have the model {model!r}: run `ollama pull {model}` "
                                "(or set llm.auto_pull = true to pull it at start)")
        self._pull(model)

    def _pull(self, model: str) -> None:
        """Pull `model`, logging each new status and every 10 % of a download at INFO."""
        log.info("Pulling %s into Ollama at %s (llm.auto_pull)", model, self.url)
        last = None
        try:
            for progress in self._client.pull(model, stream=True):
                percent = (100 * progress.completed // progress.total) if progress.total and progress.completed else 0
                if (progress.status, percent // 10) != last:
                    last = (progress.status, percent // 10)
                    log.info("Pull %s: %s%s", model, progress.status, f" {percent}%" if progress.total else "")
        except ollama.ResponseError as exc:
            raise ModelNotFound(f"Ollama could not pull {model!r}: {exc.error}. Check the name at "
                                f"https://ollama.com/library, then run `ollama pull {model}`") from exc
        except TRANSPORT_ERRORS as exc:
            raise self._error(exc, model) from exc
        log.info("Pulled %s", model)

    def _error(self, exc: Exception, model: str) -> LLMError:
        """The LLMError a person can act on for an error from the ollama client or its HTTP transport."""
        if isinstance(exc, ollama.ResponseError):
            if exc.status_code == 404 and "model" in str(exc.error):
                return ModelNotFound(f"Ollama at {self.url} does not have the model {model!r}: "
                                     f"run `ollama pull {model}`")
            if exc.status_code == 404:
                return LLMError(f"{self.url} has no Ollama API (HTTP 404): llm.base_url should be the server's root "
                                "URL, e.g. http://127.0.0.1:11434, without /v1")
            return LLMError(f"Ollama at {self.url} failed: {exc.error}; its log (`ollama serve` output) says more")
        if isinstance(exc, httpx.TimeoutException):
            return LLMUnavailable(f"Ollama at {self.url} did not answer within {self._timeout_s:g} s: it may be busy "
                                  "loading a model too large for this machine; try again, or a smaller model")
        if isinstance(exc, (ConnectionError, httpx.ConnectError)):
            return LLMUnavailable(f"Cannot reach Ollama at {self.url}: {START_HINT} (or set llm.base_url / "
                                  "OLLAMA_HOST to where it runs)")
        return LLMUnavailable(f"Ollama at {self.url} went away in the middle of a reply ({type(exc).__name__}); "
                              f"if it stopped or crashed, {START_HINT}")
