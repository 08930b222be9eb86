"""Answering: the answerer (question -> excerpts -> prompt -> LLM stream), its prompts, the chat service and the
requests it refuses (errors)."""
