"""The Magento 2.4.8 admin schema subset the sandbox answers to, and what it says is searchable."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_PATH = (
    Path(__file__).resolve().parent / "data" / "schema" / ("magento-2.4.8-admin-schema-subset.json")
)


@cache
def _definitions() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))["definitions"]


@cache
def scalar_fields(definition: str) -> frozenset[str]:
    """Top-level scalar attributes of a schema definition: what searchCriteria may name."""
    props = _definitions()[definition]["properties"]
    return frozenset(
        name for name, spec in props.items() if spec.get("type") in ("string", "integer", "number")
    )
