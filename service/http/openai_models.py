"""The JSON shapes of the OpenAI-compatible API: the request bodies it reads (strictly, as JSON Schema reads JSON),
the answers it gives, and the events of a streamed answer, for validation and the OpenAPI schema."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator


def integral(value):
    """JSON Schema counts 3.0 as an integer; so do we (strict mode alone would refuse it)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


STRICT = ConfigDict(extra="allow", strict=True)  # unknown fields are ignored; known ones must have their JSON type


Positive = Annotated[int, Field(ge=1), BeforeValidator(integral)]  # in this order, or the schema loses the minimum
Int64 = Annotated[int, Field(ge=-2**63, le=2**63 - 1), BeforeValidator(integral)]  # Ollama reads a seed as int64


class ContentPart(BaseModel):
    """One part of a message's content: text is read, other parts (images...) are accepted and ignored."""

    model_config = STRICT
    type: str
    text: str | None = None

    @model_validator(mode="after")
    def _text_is_a_string(self):
        if self.type == "text" and self.text is None:
            self.text = ""  # a text part without text is empty, not an error
        return self


class Message(BaseModel):
    model_config = STRICT
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None


class StreamOptions(BaseModel):
    model_config = STRICT
    include_usage: bool = False


class ChatRequest(BaseModel):
    """What we read from a chat request; anything else (tools, tool_choice, user, metadata...) is accepted and ignored."""

    model_config = STRICT
    model: str = Field(min_length=1, examples=["vaultrag"])
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    max_tokens: Positive | None = None
    max_completion_tokens: Positive | None = None
    stop: str | list[str] | None = None
    seed: Int64 | None = None

    @field_validator("stop")
    @classmethod
    def _listed(cls, stop):
        return [stop] if isinstance(stop, str) else stop


MAX_INPUTS = 2048  # OpenAI's own limit on texts in one embeddings request


class EmbeddingRequest(BaseModel):
    model_config = STRICT
    input: str | list[str] = Field(json_schema_extra={"anyOf": [
        {"type": "string", "minLength": 1},
        {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1, "maxItems": MAX_INPUTS}]})
    model: str = "vaultrag"
    encoding_format: Literal["float"] = "float"

    @field_validator("input")
    @classmethod
    def _non_empty(cls, value):
        texts = [value] if isinstance(value, str) else value
        if not texts or any(not t for t in texts) or len(texts) > MAX_INPUTS:
            raise ValueError(f"must be a non-empty string or a list of 1 to {MAX_INPUTS} non-empty strings")
        return value


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class Embedding(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float]


class TokenCount(BaseModel):
    prompt_tokens: int
    total_tokens: int


class EmbeddingList(BaseModel):
    object: Literal["list"] = "list"
    model: str
    data: list[Embedding]
    usage: TokenCount


class AssistantMessage(BaseModel):
    role: Literal["assistant"]
    content: str


class Choice(BaseModel):
    index: int
    message: AssistantMessage
    finish_reason: Literal["stop", "length"]
    logprobs: None = None


class CompletionUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    """A non-streamed answer; `sources` are the excerpts it was given, as Open WebUI's citations."""

    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[Choice]
    usage: CompletionUsage
    sources: list[dict[str, Any]]


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int
    delta: Delta
    finish_reason: Literal["stop", "length"] | None
    logprobs: None = None


class SourceEvent(BaseModel):
    type: Literal["source"]
    data: dict[str, Any]


class ChatCompletionChunk(BaseModel):
    """One event of a streamed answer: the role, content deltas, the finish reason, then (when asked) the usage
    with no choices. Open WebUI's citations come as chunks with an `event` and no choices."""

    id: str
    object: Literal["chat.completion.chunk"]
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: CompletionUsage | None = None
    event: SourceEvent | None = None


SSE_EVENT = {  # OpenAPI 3.1: the schema of a text/event-stream response describes each event
    "type": "object", "required": ["data"],
    "properties": {"data": {"anyOf": [
        {"const": "[DONE]"},
        {"type": "string", "contentMediaType": "application/json", "contentSchema": {"anyOf": [
            {"$ref": "#/components/schemas/ChatCompletionChunk"}, {"$ref": "#/components/schemas/ErrorResponse"}]}}]}}}


# Schemas the OpenAPI components need that no route names: request bodies read by hand, and stream events.
SCHEMA_MODELS = (ChatRequest, EmbeddingRequest, ChatCompletionChunk)
