"""Where the daemon is reached: whether a bind address reaches only this machine, and a client's URL for it."""

from __future__ import annotations

import ipaddress
import socket


def is_loopback(host: str) -> bool:
    """127.0.0.0/8 or ::1, or a name all of whose addresses are (a name that does not resolve is not loopback)."""
    name = host.strip("[]")
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        pass
    try:
        addresses = {info[4][0].split("%", 1)[0] for info in socket.getaddrinfo(name, None)}
    except (OSError, UnicodeError):
        return False
    return bool(addresses) and all(ipaddress.ip_address(address).is_loopback for address in addresses)


def http_url(host: str, port: int) -> str:
    """http://host:port for a client: a wildcard bind address becomes loopback, an IPv6 address is bracketed."""
    host = host.strip("[]")
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"
