"""LLM backends: the base types and errors, one module per backend, and the factory that picks one from settings."""
