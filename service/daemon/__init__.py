"""The daemon: serve (lock, socket, uvicorn), the single index writer, the live status and the client that finds it."""
