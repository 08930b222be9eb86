"""`vaultrag serve`: one long-running process per vault: the writer lock, logging, the HTTP socket, uvicorn."""

from __future__ import annotations

import errno
import signal
import logging
import logging.handlers
import socket
import sys

import uvicorn

from vaultrag.config.log_setup import LOG_FORMAT, quiet_libraries
from vaultrag.config.errors import ConfigError, VaultragError
from vaultrag.config.settings import Settings
from vaultrag.ingest.pipeline import VaultIndexer
from vaultrag.service.http.app import create_app
from vaultrag.service.ops.model_choice import resolve_models

log = logging.getLogger(__name__)


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
    """Run until SIGTERM or SIGINT; then finish the batch in hand, flush and return (exit code 0)."""
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
        config = uvicorn.Config(create_app(settings, indexer, choice=choice), log_config=None, access_log=False,
                                timeout_graceful_shutdown=3, lifespan="on")
        # uvicorn handles SIGTERM/SIGINT itself, then re-raises the signal to the handler it found: make that one
        # a no-op, so a requested stop ends with exit code 0 (systemd and launchd read anything else as a failure).
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: None)
        uvicorn.Server(config).run(sockets=[sock])
    log.info("vaultrag stopped")
