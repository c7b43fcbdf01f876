"""Secret: type Opaque by default; write-only stringData merged into data."""

from __future__ import annotations

import base64

from .base import Kind, resource


def defaults(obj, allocator=None):
    """stringData is write-only: merged into data (base64) as the API server's conversion does."""
    del allocator
    obj.setdefault("type", "Opaque")
    strings = obj.pop("stringData", None) or {}
    if strings:
        data = obj.setdefault("data", {})
        for key, value in strings.items():
            data[key] = base64.b64encode(str(value).encode()).decode()


KIND = Kind((resource("v1", "Secret", "secrets", True),), defaults=defaults)
