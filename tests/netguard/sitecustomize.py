"""A network guard for any Python process started with this folder on PYTHONPATH (Python imports `sitecustomize`
at start-up): with $NETGUARD_LOG set, an audit hook (PEP 578) blocks every connection to, datagram to, and
name lookup of a non-loopback address, and records each network event as one JSON line in that file.

Records: {"pid", "event": "installed"} once per process; then {"pid", "event", "target", "blocked", "where"}, with
`where` the innermost Python frames outside this file, naming the code that tried. A blocked call raises
PermissionError (an OSError, as a refused connection would), so the caller's own error handling runs.
Native code that opens sockets without Python's socket module is not seen (nothing in vaultrag's stack does).
"""

from __future__ import annotations

import ipaddress
import json
import os
import sys
import threading
import traceback

LOG = os.environ.get("NETGUARD_LOG")
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
_lock = threading.Lock()
_busy = threading.local()  # the hook's own work (writing the record) must not re-enter it


def is_loopback(host) -> bool:
    """127.0.0.0/8, ::1, "localhost"; None or "" (a wildcard, for binding) is local too."""
    if host in (None, "", b""):
        return True
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    host = str(host).strip("[]").split("%", 1)[0]
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name other than localhost: looking it up may ask a DNS server


def _target(event: str, args: tuple):
    """(host, shown target) of a network event, or None when it is not one we judge."""
    if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        sock, address = args[0], args[1]
        if getattr(sock, "family", None) not in (2, 10) or not isinstance(address, tuple):  # AF_INET, AF_INET6
            return None  # a Unix socket or a socketpair: local by nature
        return address[0], f"{address[0]}:{address[1]}"
    if event == "socket.getaddrinfo":
        return args[0], f"{args[0]!s}:{args[1]!s}"
    if event in ("socket.gethostbyname", "socket.gethostbyname_ex", "socket.gethostbyaddr"):
        return args[0], str(args[0])
    if event == "socket.getnameinfo":
        return args[0][0], str(args[0][0])
    return None


def _write(record: dict) -> None:
    _busy.on = True
    try:
        with _lock, open(LOG, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
    finally:
        _busy.on = False


def _where() -> list[str]:
    frames = [f for f in traceback.extract_stack()[:-3] if f.filename != __file__]
    return [f"{f.filename}:{f.lineno} {f.name}" for f in frames[-6:]]


def _hook(event: str, args: tuple) -> None:
    if not event.startswith("socket.") or getattr(_busy, "on", False):
        return
    target = _target(event, args)
    if target is None:
        return
    host, shown = target
    blocked = not is_loopback(host)
    _write({"pid": os.getpid(), "event": event, "target": shown, "blocked": blocked,
            "where": _where() if blocked else []})
    if blocked:
        raise PermissionError(f"netguard: {event} to {shown} blocked (not a loopback address)")


if LOG:
    sys.addaudithook(_hook)
    _write({"pid": os.getpid(), "event": "installed", "argv": sys.argv[:3]})
