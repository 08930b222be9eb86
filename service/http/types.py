"""Field types shared by the HTTP API's request models, read as JSON Schema reads JSON (for strict models)."""

from __future__ import annotations


def integral(value):
    """JSON Schema counts 3.0 as an integer; so do we (strict mode alone would refuse it)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value
