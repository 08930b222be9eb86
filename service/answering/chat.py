"""What the chat endpoints need from the daemon: the model ids offered, limits, the Answerer and the embedder."""

from __future__ import annotations

from vaultrag.config.settings import Settings
from vaultrag.ingest.embedders import TextEmbedder
from vaultrag.service.answering.answerer import Answerer, text_of
from vaultrag.service.answering.errors import QuestionTooLong, TooManyMessages, UnknownModel
from vaultrag.service.llm.base import LLMBackend
from vaultrag.service.llm.factory import make_backend
from vaultrag.service.search.filters import Filters
from vaultrag.service.search.scopes import load_scopes
from vaultrag.service.search.searcher import Searcher

VAULT_MODEL = "vaultrag"


class ChatService:
    def __init__(self, settings: Settings, searcher: Searcher, embedder: TextEmbedder, backend: LLMBackend | None = None):
        llm = settings.llm
        self.backend = backend or make_backend(llm.backend, llm.base_url, llm.api_key, llm.keep_alive, llm.auto_pull)
        self.answerer = Answerer(settings, searcher, self.backend)
        self.embedder = embedder
        self.temperature = llm.temperature
        self.answer_tokens = llm.answer_tokens
        # A request's max_tokens is lowered to this, so the excerpts from the notes still fit in the context
        self.max_answer_tokens = max(llm.context_tokens // 2, llm.answer_tokens)
        self._llm = llm
        self.scopes = load_scopes(settings)
        self._server = settings.server

    def model_ids(self) -> list[str]:
        """`vaultrag` answers with the configured LLM; `vaultrag/<llm>` with each of `llm.selectable`;
        `vaultrag:<scope>` with the configured LLM from the notes of one of `[scopes]`."""
        return ([VAULT_MODEL] + [f"{VAULT_MODEL}/{m}" for m in self._llm.selectable]
                + [f"{VAULT_MODEL}:{name}" for name in self.scopes])

    def scope_for(self, model_id: str) -> Filters | None:
        """The scope a `vaultrag:<scope>` model searches in; None for the whole vault."""
        return self.scopes.get(model_id.removeprefix(VAULT_MODEL + ":")) if model_id.startswith(VAULT_MODEL + ":") else None

    def llm_for(self, model_id: str) -> str:
        if model_id == VAULT_MODEL or self.scope_for(model_id) is not None:
            return self._llm.model
        if model_id.startswith(VAULT_MODEL + "/") and model_id in self.model_ids():
            return model_id.split("/", 1)[1]
        raise UnknownModel(f"model {model_id!r} does not exist; available: {', '.join(self.model_ids())}")

    def check_limits(self, messages: list[dict]) -> None:
        """TooManyMessages for more messages than server.max_messages; QuestionTooLong for a question (the last
        user message, all its text parts) longer than server.max_question_chars."""
        if len(messages) > self._server.max_messages:
            raise TooManyMessages(f"{len(messages)} messages is more than the limit of {self._server.max_messages} "
                                  "(server.max_messages)")
        question = next((text_of(m.get("content")) for m in reversed(messages) if m["role"] == "user"), "")
        if len(question) > self._server.max_question_chars:
            raise QuestionTooLong(f"the question is {len(question)} characters, more than the limit of "
                                  f"{self._server.max_question_chars} (server.max_question_chars)")
