"""The message an OpenAI-compatible server gives for an error, as the embedder and the LLM backend report it."""

from __future__ import annotations

import httpx

from vaultrag.config.openai_errors import MAX_CHARS, error_message


def test_the_message_of_an_error_body_is_given_whatever_its_shape():
    assert error_message(httpx.Response(404, json={"error": {"message": "model 'x' not found"}})) == "model 'x' not found"
    assert error_message(httpx.Response(400, json={"error": "context length exceeded"})) == "context length exceeded"
    assert error_message({"error": {"message": "out of memory", "type": "server_error"}}) == "out of memory"


def test_a_body_that_is_not_json_is_given_by_its_start():
    page = "<html>" + "Bad gateway " * 100 + "</html>"
    message = error_message(httpx.Response(502, text=page))
    assert message.startswith("<html>Bad gateway") and len(message) == MAX_CHARS
