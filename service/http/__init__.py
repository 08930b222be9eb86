"""The HTTP edge: the FastAPI app, request checks, error mapping, routes and SSE framing (the only room that imports FastAPI)."""
