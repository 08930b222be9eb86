"""`vaultrag serve`: one long-running process per vault: the writer lock, logging, the HTTP socket, uvicorn."""

from __future__ import annotations

import errno
import logging
import logging.handlers
import os
import signal
import socket
import sys
import threading
import time
from typing import Callable

import uvicorn

from vaultrag.config.log_setup import LOG_FORMAT, quiet_libraries
from vaultrag.config.errors import ConfigError, VaultragError
from vaultrag.config.settings import Settings
from vaultrag.ingest.pipeline import VaultIndexer
from vaultrag.service.daemon.index_writer import WRITER_THREAD
from vaultrag.service.http.app import create_app
from vaultrag.service.ops.model_choice import resolve_models

log = logging.getLogger(__name__)
STOP_SECONDS = 7.0  # SIGTERM to exit at most (goal: 10 s; systemd/ kills at 15 s); IndexWriter.stop waits 6 of them


class PortUnavailable(VaultragError):
    """The configured address cannot be bound."""


def configure_logging(settings: Settings, to_file: bool) -> None:
    """One line per event to stderr (journald/launchd capture it), and optionally a rotating file in the data dir."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if to_file:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.handlers.RotatingFileHandler(settings.data_dir / "vaultrag.log", maxBytes=5_000_000,
                                                             backupCount=3, encoding="utf-8"))
    logging.basicConfig(level=settings.log.level.upper(), format=LOG_FORMAT, handlers=handlers, force=True)
    quiet_libraries()


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        why = "is in use by another program" if exc.errno == errno.EADDRINUSE else f"cannot be bound ({exc.strerror})"
        raise PortUnavailable(f"{host}:{port} {why}; choose another with server.port or --port") from None
    return sock


def serve(settings: Settings, insecure: bool = False) -> None:
    """Run until SIGTERM or SIGINT; then finish the batch in hand, flush and exit the process (code 0)."""
    configure_logging(settings, settings.log.file)
    host, port = settings.server.host, settings.server.port
    if not settings.server.is_loopback and not settings.server.api_key and not insecure:
        raise ConfigError(f"refusing to serve your notes on {host} without an API key: set server.api_key "
                          "(clients then send 'Authorization: Bearer <key>'), bind 127.0.0.1, or pass --insecure")
    settings, choice = resolve_models(settings)
    with VaultIndexer(settings, host=host, port=port) as indexer:
        sock = bind(host, port)
        log.info("vaultrag starting: vault %s, data %s, embedding model %s, http://%s:%d", indexer.vault,
                 settings.data_dir, indexer.model.model_id, f"[{host}]" if ":" in host else host, port)
        app = create_app(settings, indexer, choice=choice)
        config = uvicorn.Config(app, log_config=None, access_log=False, timeout_graceful_shutdown=3, lifespan="on")
        # uvicorn handles SIGTERM/SIGINT itself, then re-raises the signal to the handler it found: make that one
        # a no-op, so a requested stop ends with exit code 0 (systemd and launchd read anything else as a failure).
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: None)
        server = _Server(config, app.state.writer.ask_to_stop)
        server.run(sockets=[sock])
    log.info("vaultrag stopped")
    _leave_stragglers((server.exit_asked or time.monotonic()) + STOP_SECONDS)


class _Server(uvicorn.Server):
    """uvicorn's server, which also tells the index writer to stop as the signal comes, so that its last batch
    ends while the open answers end, not after."""

    def __init__(self, config: uvicorn.Config, on_exit: Callable[[], None]):
        super().__init__(config)
        self._on_exit = on_exit
        self.exit_asked: float | None = None  # time.monotonic() of the signal

    def handle_exit(self, sig, frame) -> None:
        if self.exit_asked is None:
            self.exit_asked = time.monotonic()
        self._on_exit()
        super().handle_exit(sig, frame)


def _leave_stragglers(deadline: float) -> None:
    """Exit (code 0) by `deadline`, waiting for nothing that is still at work: a plan's follow-up rewrite or the read
    of an answer whose stream already ended (Python would wait for each as long as the LLM takes), the index writer
    still inside an embedding step, a search's encode that outlived its request. The exit skips Python's
    finalisation, which unwinds daemon threads out of native code (ONNX Runtime, torch) and so aborts the process
    with SIGABRT. The index is closed by now, or, with the writer still inside a batch, exactly as after a SIGKILL,
    which the next start repairs."""
    for thread in _others():
        thread.join(max(deadline - time.monotonic(), 0))
    busy = _others() + [t for t in threading.enumerate() if t.name == WRITER_THREAD and t.is_alive()]
    if busy:
        log.warning("exiting without %d thread(s) still at work (%s)", len(busy),
                    ", ".join(sorted({t.name.rstrip("_0123456789") for t in busy})))
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _others() -> list[threading.Thread]:
    """The live threads Python would wait for at exit, but this one."""
    return [t for t in threading.enumerate() if t is not threading.current_thread() and not t.daemon and t.is_alive()]
