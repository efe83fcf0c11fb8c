"""Tryton's JSON: Decimal and dates travel as `__class__` objects both ways.

Domains, orders and context go in query parameters and a header, so they travel
base64url-encoded.
"""

from __future__ import annotations

import base64
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any


def encode(value: Any) -> Any:
    """`value` with every Decimal, date and datetime in Tryton's JSON form."""
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, datetime):
        return {
            "__class__": "datetime",
            "year": value.year,
            "month": value.month,
            "day": value.day,
            "hour": value.hour,
            "minute": value.minute,
            "second": value.second,
            "microsecond": value.microsecond,
        }
    if isinstance(value, date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    return value


def decode_hook(obj: dict) -> Any:
    """`json.loads` object hook: Tryton's `__class__` objects back to Decimal and dates."""
    kind = obj.get("__class__")
    if kind == "Decimal":
        return Decimal(obj["decimal"])
    if kind == "date":
        return date(obj["year"], obj["month"], obj["day"])
    if kind == "datetime":
        return datetime(
            obj["year"],
            obj["month"],
            obj["day"],
            obj["hour"],
            obj["minute"],
            obj["second"],
            obj.get("microsecond", 0),
        )
    return obj


def dumps(value: Any) -> str:
    return json.dumps(encode(value))


def loads(content: bytes) -> Any:
    return json.loads(content, object_hook=decode_hook)


def b64(value: Any) -> str:
    """A domain, order or context as Tryton's REST API takes it in a parameter or header."""
    return base64.urlsafe_b64encode(dumps(value).encode()).decode()


def dec(value: Any) -> Decimal:
    """A Tryton amount or quantity as Decimal (None is zero)."""
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))


def record_id(value: Any) -> int | None:
    """The id of a related record, whether Tryton sent it as an id or as a nested record."""
    if isinstance(value, dict):
        return value.get("id")
    return value
