"""Where Ollama listens: a host as the ollama CLI reads OLLAMA_HOST, made into a URL (used by the LLM backend and the
embedding provider alike)."""

from __future__ import annotations

import os
import urllib.parse

OLLAMA_DEFAULT_URL = "http://127.0.0.1:11434"


def ollama_url(host: str) -> str:
    """`host` read as the ollama CLI reads OLLAMA_HOST: "host", "host:port" or "scheme://host:port[/path]".

    Without a scheme: http and port 11434; "http://host" alone means port 80 and "https://host" 443.
    """
    scheme, sep, hostport = host.strip().partition("://")
    if not sep:
        scheme, hostport, default_port = "http", host.strip(), 11434
    else:
        default_port = {"http": 80, "https": 443}.get(scheme, 11434)
    split = urllib.parse.urlsplit(f"{scheme}://{hostport}")
    netloc = split.netloc if split.port else f"{split.netloc}:{default_port}"
    if netloc.startswith(":"):
        netloc = "127.0.0.1" + netloc
    return f"{scheme}://{netloc}{split.path.rstrip('/')}"


def ollama_host(base_url: str) -> str:
    """`base_url`, else the OLLAMA_HOST environment variable, else http://127.0.0.1:11434, as a URL."""
    return ollama_url(base_url or os.environ.get("OLLAMA_HOST", "") or OLLAMA_DEFAULT_URL)
