"""Answering: the answerer (question -> excerpts -> prompt -> LLM stream), its prompts and the chat service."""
