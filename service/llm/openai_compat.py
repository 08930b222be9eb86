"""The OpenAI-compatible backend: LM Studio, llama.cpp's server, vLLM, Ollama's /v1, over httpx (events read by
httpx-sse).

Wire format: OpenAI's chat completions API. `POST {base_url}/chat/completions` with `stream: true` answers with
server-sent events, one `data: {chunk}` each, whose `choices[0].delta.content` carries the text, then
`data: [DONE]`; with `stream_options: {"include_usage": true}` a chunk before [DONE] carries `usage`.
`GET {base_url}/models` lists `{"data": [{"id": ...}]}`. Errors are `{"error": {"message": ...}}`.
"""

from __future__ import annotations

import json
from typing import Generator

import httpx
from httpx_sse import SSEError, connect_sse

from vaultrag.config.openai_errors import error_message
from vaultrag.service.llm.base import ChatOptions, Inventory, LLMError, LLMUnavailable, ModelInfo, ModelNotFound, Usage

START_HINT = "start the server (LM Studio, `llama-server`, `vllm serve`, `ollama serve`) or fix llm.base_url"


class OpenAIBackend:
    """A server speaking the OpenAI API at `base_url` (its API root, e.g. http://127.0.0.1:8080/v1).

    `num_ctx` is not sent: these servers fix the context window when they load the model.
    """

    name = "openai"

    def __init__(self, base_url: str, api_key: str = "", timeout_s: float = 300):
        self.url = base_url.rstrip("/")
        self._timeout_s = timeout_s
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(base_url=self.url + "/", headers=headers, timeout=timeout_s)

    def chat(self, model: str, messages: list[dict], options: ChatOptions,
             num_ctx: int) -> Generator[str | Usage, None, None]:
        """Stream the reply's deltas from the server's events, then its usage (Usage(0, 0) if it sends none)."""
        sampling = {"temperature": options.temperature, "top_p": options.top_p, "max_tokens": options.max_tokens,
                    "stop": options.stop, "seed": options.seed}
        body = {"model": model, "messages": messages, "stream": True, "stream_options": {"include_usage": True},
                **{key: value for key, value in sampling.items() if value is not None}}
        usage, finished = Usage(0, 0), False
        try:
            with connect_sse(self._client, "POST", "chat/completions", json=body) as source:
                if source.response.status_code >= 400:
                    source.response.read()
                    raise self._status_error(source.response, model)
                for event in source.iter_sse():
                    if not event.data:  # an event with no data field (a named ping, say) carries no chunk
                        continue
                    if event.data == "[DONE]":
                        finished = True
                        break
                    chunk = event.json()
                    if chunk.get("error"):
                        raise LLMError(f"{self.url} failed mid-reply: {error_message(chunk)}")
                    if chunk.get("usage"):
                        usage = Usage(chunk["usage"].get("prompt_tokens") or 0,
                                      chunk["usage"].get("completion_tokens") or 0)
                    for choice in chunk.get("choices") or []:
                        finished = finished or bool(choice.get("finish_reason"))
                        if text := (choice.get("delta") or {}).get("content"):
                            yield text
        except (SSEError, json.JSONDecodeError) as exc:  # SSEError: the reply is not text/event-stream
            raise LLMError(f"{self.url} sent a reply that is not OpenAI's event stream: is llm.base_url its "
                           "API root (often ending in /v1)?") from exc
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from exc
        if not finished:
            raise LLMUnavailable(f"{self.url} ended the reply before it was done; if it stopped or crashed, "
                                 f"{START_HINT}")
        yield usage

    def models(self) -> list[str]:
        """The model ids the server lists at `GET /models`."""
        try:
            response = self._client.get("models")
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from exc
        if response.status_code >= 400:
            raise self._status_error(response, "")
        return [entry["id"] for entry in response.json().get("data", [])]

    def inventory(self) -> Inventory:
        """The models listed at `GET /models`; these servers tell neither a version nor sizes nor what is loaded."""
        try:
            return Inventory("", [ModelInfo(name) for name in self.models()], [])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise LLMError(f"{self.url}/models did not answer with OpenAI's model list: llm.base_url should be the "
                           "server's API root, e.g. http://127.0.0.1:8080/v1") from exc

    def ensure_model(self, model: str) -> None:
        """Return when the server lists `model`; these servers cannot be told to download one."""
        names = self.models()
        if model not in names:
            raise ModelNotFound(f"The server at {self.url} has no model {model!r}: load or download it there "
                                f"(for Ollama's /v1: `ollama pull {model}`), or set llm.model to one of: "
                                f"{', '.join(names) or '(none listed)'}")

    def _status_error(self, response: httpx.Response, model: str) -> LLMError:
        """The LLMError for an HTTP error answer."""
        message = error_message(response)
        if response.status_code == 404 and model and model in message:
            return ModelNotFound(f"The server at {self.url} has no model {model!r}: load or download it there "
                                 f"(for Ollama's /v1: `ollama pull {model}`), or set llm.model to one listed at "
                                 f"{self.url}/models")
        if response.status_code == 404:
            return LLMError(f"{response.request.url} does not exist (HTTP 404): llm.base_url should be the "
                            "server's API root, e.g. http://127.0.0.1:8080/v1")
        if response.status_code in (401, 403):
            return LLMError(f"{self.url} refused the request (HTTP {response.status_code}): check llm.api_key")
        return LLMError(f"{self.url} answered HTTP {response.status_code}: {message}")

    def _transport_error(self, exc: httpx.HTTPError) -> LLMUnavailable:
        """The LLMUnavailable for a server that is not there, too slow, or gone mid-reply."""
        if isinstance(exc, httpx.ConnectError):
            return LLMUnavailable(f"Cannot reach the LLM server at {self.url}: {START_HINT}")
        if isinstance(exc, httpx.TimeoutException):
            return LLMUnavailable(f"The LLM server at {self.url} did not answer within {self._timeout_s:g} s: "
                                  "it may be overloaded; try again, or a smaller model")
        return LLMUnavailable(f"The LLM server at {self.url} went away in the middle of a reply "
                              f"({type(exc).__name__}); if it stopped or crashed, {START_HINT}")
