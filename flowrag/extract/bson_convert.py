"""Any BSON value to a JSON-safe Python value, never raising.

Handles ObjectId, datetime (to UTC ISO), Decimal128, Int64, UUID/Binary, Regex, Timestamp, DBRef,
MinKey/MaxKey, NaN/inf, very deep nesting (cut at ``MAX_DEPTH``) and long arrays (summarised).
The bson types are matched by class name so this module imports nothing from pymongo (it is
unit-tested with real ``bson`` objects in ``tests/unit/test_bson_convert.py``).
"""

from __future__ import annotations

import base64
import math
import re
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flowrag.timeutil import to_iso

__all__ = ["MAX_DEPTH", "to_jsonable"]

MAX_DEPTH = 12
MAX_ARRAY = 50


def _binary(value: Any) -> str:
    subtype = getattr(value, "subtype", 0)
    raw = bytes(value)
    if subtype in (3, 4) and len(raw) == 16:
        return str(uuid.UUID(bytes=raw))
    head = base64.b64encode(raw[:48]).decode("ascii")
    return f"<binary {len(raw)} bytes: {head}{'…' if len(raw) > 48 else ''}>"


def to_jsonable(value: Any, depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        return "<nested too deep>"
    kind_ = type(value)  # exact-type fast paths first: this runs for every field of every document
    if kind_ is str or kind_ is bool or value is None:
        return value
    if kind_ is dict:
        return {str(k): to_jsonable(v, depth + 1) for k, v in value.items()}
    if kind_ is int:
        return value
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)  # Int64 is an int subclass
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime):
        return to_iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        items = [to_jsonable(v, depth + 1) for v in value[:MAX_ARRAY]]
        if len(value) > MAX_ARRAY:
            items.append(f"<{len(value) - MAX_ARRAY} more items>")
        return items
    if isinstance(value, bytes | bytearray | memoryview):
        return _binary(value)
    kind = type(value).__name__
    if kind == "ObjectId":
        return str(value)
    if kind == "Decimal128":
        dec = value.to_decimal()
        return float(dec) if dec.is_finite() else None
    if kind == "Binary":
        return _binary(value)
    if kind == "Regex":
        return f"/{value.pattern}/{_regex_flags(value.flags)}"
    if kind == "Timestamp":
        return to_iso(value.as_datetime())
    if kind == "DBRef":
        return f"{value.collection}/{value.id}"
    if kind in ("MinKey", "MaxKey"):
        return kind
    if kind == "Code":
        return str(value)
    return str(value)


_REGEX_FLAGS = (
    ("i", re.IGNORECASE),
    ("l", re.LOCALE),
    ("m", re.MULTILINE),
    ("s", re.DOTALL),
    ("u", re.UNICODE),
    ("x", re.VERBOSE),
)


def _regex_flags(flags: int | str) -> str:
    """BSON regex options as MongoDB writes them ("imsx"); a decoded Regex holds Python's int."""
    if isinstance(flags, str):
        return flags
    return "".join(letter for letter, bit in _REGEX_FLAGS if flags & bit)
