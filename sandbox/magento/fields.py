"""`fields=` partial responses: which parts of a GET answer the client asked for (CONTRACT §3)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def parse_fields(spec: str) -> dict[str, Any]:
    """`items[increment_id,entity_id],total_count` -> {"items": {"increment_id": {}, ...}, ...}."""
    result: dict[str, Any] = {}
    stack = [result]
    token = ""
    for ch in spec:
        if ch in ",[]":
            name = token.strip()
            token = ""
            if ch == "[":
                child: dict[str, Any] = {}
                stack[-1][name] = child
                stack.append(child)
                continue
            if name:
                stack[-1][name] = {}
            if ch == "]" and len(stack) > 1:
                stack.pop()
        else:
            token += ch
    if token.strip():
        stack[-1][token.strip()] = {}
    return result


def filter_fields(data: Any, spec: Mapping[str, Any]) -> Any:
    if not spec:
        return data
    if isinstance(data, list):
        return [filter_fields(element, spec) for element in data]
    if isinstance(data, dict):
        return {k: filter_fields(data[k], spec[k]) for k in spec if k in data}
    return data
