"""searchCriteria the way Magento's collections apply it (CONTRACT §3); `fields=` is fields.py.

- Query keys are PHP-style nested (`searchCriteria[filter_groups][0][filters][0][field]`); both
  snake_case and camelCase spellings are accepted and echoed back in snake_case.
- Filters inside a group are OR'ed, groups are AND'ed.
- Comparison follows MySQL with Magento's default collation: strings compare case-insensitively,
  numbers numerically, timestamps ("YYYY-MM-DD HH:MM:SS") as strings, NULL matches nothing
  except `null`.
- `currentPage` past the last page returns the last page again (Collection::getCurPage()).
- No `pageSize` means every row, unless input limits are on (default 20, maximum 300).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sandbox.magento.errors import REQUIRED_FIELD, MagentoError

CONDITIONS = frozenset(
    {
        "eq", "neq", "gt", "gteq", "lt", "lteq", "moreq", "like", "nlike", "in", "nin",
        "null", "notnull", "from", "to", "finset", "nfinset",
    }
)  # fmt: skip

_CAMEL = {
    "filterGroups": "filter_groups",
    "conditionType": "condition_type",
    "sortOrders": "sort_orders",
    "pageSize": "page_size",
    "currentPage": "current_page",
}
_SNAKE_ALIASES = {"sort_orders", "page_size", "current_page", "filter_groups", "condition_type"}

MAX_PAGE_SIZE = 300
DEFAULT_LIMITED_PAGE_SIZE = 20


@dataclass
class Filter:
    field: str
    value: str
    condition_type: str = "eq"

    @cached_property
    def listed(self) -> tuple[frozenset[str], frozenset[float]]:
        """The values of an `in`/`nin` filter, parsed once rather than once per row: lower-cased
        (text columns compare case-insensitively) and as numbers (numeric columns; MySQL casts
        non-numeric text to 0)."""
        values = [v.strip() for v in self.value.split(",")]
        numbers = set()
        for value in values:
            try:
                numbers.add(float(value))
            except ValueError:
                numbers.add(0.0)
        return frozenset(v.lower() for v in values), frozenset(numbers)


@dataclass
class SearchCriteria:
    filter_groups: list[list[Filter]] = field(default_factory=list)
    sort_orders: list[tuple[str, str]] = field(default_factory=list)
    page_size: int | None = None
    current_page: int | None = None

    def echo(self) -> dict[str, Any]:
        """The `search_criteria` block of a search result (snake_case keys)."""
        out: dict[str, Any] = {
            "filter_groups": [
                {
                    "filters": [
                        {"field": f.field, "value": f.value, "condition_type": f.condition_type}
                        for f in group
                    ]
                }
                for group in self.filter_groups
            ]
        }
        if self.sort_orders:
            out["sort_orders"] = [{"field": f, "direction": d} for f, d in self.sort_orders]
        if self.page_size is not None:
            out["page_size"] = self.page_size
        if self.current_page is not None:
            out["current_page"] = self.current_page
        return out


def parse_nested(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """`a[b][0][c]=v` pairs into nested dicts (list indexes stay string keys)."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+|\[\]", key)
        if not parts:
            continue
        node = root
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[parts[-1]] = value
    return root


def _norm(key: str) -> str:
    return _CAMEL.get(key, key)


def _ordered(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return [
            node[k]
            for k in sorted(node, key=lambda k: (not k.isdigit(), int(k) if k.isdigit() else 0, k))
        ]
    if isinstance(node, list):
        return node
    return []


def _int_param(value: Any, name: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise MagentoError(
            'Error occurred during "%fieldName" processing. The "%value" value\'s type is invalid.'
            ' The "int" type was expected. Verify and try again.',
            {"fieldName": name, "value": str(value)},
        ) from None


def parse_search_criteria(
    args: Iterable[tuple[str, str]], *, required: bool = True
) -> SearchCriteria:
    """Build SearchCriteria from query pairs; 400 when required and absent."""
    pairs = [(k, v) for k, v in args if k.startswith("searchCriteria")]
    if not pairs:
        if required:
            raise MagentoError(REQUIRED_FIELD, {"fieldName": "searchCriteria"})
        return SearchCriteria()
    raw = parse_nested(pairs).get("searchCriteria", {})
    if not isinstance(raw, dict):
        raw = {}
    raw = {_norm(k): v for k, v in raw.items()}
    criteria = SearchCriteria()
    for group in _ordered(raw.get("filter_groups")):
        filters = []
        group_dict = {_norm(k): v for k, v in group.items()} if isinstance(group, dict) else {}
        for item in _ordered(group_dict.get("filters")):
            if not isinstance(item, dict):
                continue
            item = {_norm(k): v for k, v in item.items()}
            condition = str(item.get("condition_type") or "eq").lower()
            if condition not in CONDITIONS:
                raise MagentoError('Invalid condition type "%1".', [condition])
            if "field" not in item:
                raise MagentoError(REQUIRED_FIELD, {"fieldName": "field"})
            filters.append(Filter(str(item["field"]), str(item.get("value", "")), condition))
        if filters:
            criteria.filter_groups.append(filters)
    for order in _ordered(raw.get("sort_orders")):
        if isinstance(order, dict) and order.get("field"):
            direction = str(order.get("direction") or "DESC").upper()
            criteria.sort_orders.append(
                (str(order["field"]), "ASC" if direction == "ASC" else "DESC")
            )
    if "page_size" in raw:
        criteria.page_size = _int_param(raw["page_size"], "pageSize")
    if "current_page" in raw:
        criteria.current_page = _int_param(raw["current_page"], "currentPage")
    return criteria


# --- matching --------------------------------------------------------------------------------


def _like_regex(pattern: str) -> re.Pattern[str]:
    out = []
    for ch in pattern:
        if ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        else:
            out.append(re.escape(ch))
    return re.compile("^" + "".join(out) + "$", re.IGNORECASE | re.DOTALL)


def _coerce(actual: Any, raw: str) -> tuple[Any, Any] | None:
    """Both sides as comparable values, MySQL-style; None when not comparable."""
    if actual is None:
        return None
    if isinstance(actual, bool):
        actual = int(actual)
    if isinstance(actual, int | float):
        try:
            return float(actual), float(raw)
        except ValueError:
            return float(actual), 0.0  # MySQL casts a non-numeric string to 0
    return str(actual).lower(), raw.lower()


def matches(actual: Any, flt: Filter) -> bool:
    cond = flt.condition_type
    if cond == "null":
        return actual is None or actual == ""
    if cond == "notnull":
        return actual is not None and actual != ""
    if isinstance(actual, list):  # multi-valued attribute: match any element
        return any(matches(element, flt) for element in actual)
    if cond in ("in", "nin"):
        # Set lookups with _coerce's rules: equal as numbers for a numeric column, equal
        # lower-cased for anything else; NULL is in nothing and not-in nothing.
        hit = False
        if actual is not None:
            texts, numbers = flt.listed
            value = int(actual) if isinstance(actual, bool) else actual
            if isinstance(value, int | float):
                hit = float(value) in numbers
            else:
                hit = str(value).lower() in texts
        return hit if cond == "in" else (actual is not None and not hit)
    if cond in ("like", "nlike"):
        if actual is None:
            return False
        hit = bool(_like_regex(flt.value).match(str(actual)))
        return hit if cond == "like" else not hit
    if cond in ("finset", "nfinset"):
        if actual is None:
            return False
        members = [m.strip().lower() for m in str(actual).split(",")]
        hit = flt.value.strip().lower() in members
        return hit if cond == "finset" else not hit
    pair = _coerce(actual, flt.value)
    if pair is None:
        return False
    left, right = pair
    if cond == "eq":
        return left == right
    if cond == "neq":
        return left != right
    if cond == "gt":
        return left > right
    if cond in ("gteq", "moreq", "from"):
        return left >= right
    if cond == "lt":
        return left < right
    if cond in ("lteq", "to"):
        return left <= right
    raise MagentoError('Invalid condition type "%1".', [cond])  # pragma: no cover - guarded above


Getter = Callable[[Mapping[str, Any], str], Any]


def _default_get(doc: Mapping[str, Any], name: str) -> Any:
    return doc.get(name)


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)  # MySQL sorts NULL first in ASC
    if isinstance(value, int | float):
        return (1, float(value))
    return (2, str(value).lower())


@dataclass
class Page:
    items: list[dict[str, Any]]
    total_count: int


KeyIndex = Mapping[str, Sequence[int]]


def key_index(
    docs: Sequence[Mapping[str, Any]], name: str, get: Getter = _default_get
) -> KeyIndex | None:
    """Positions of the documents by lower-cased `name`, for `apply(indexes=...)`; None when a
    document's value is not text (only text compares as plain lower-cased equality)."""
    index: dict[str, list[int]] = {}
    for position, doc in enumerate(docs):
        value = get(doc, name)
        if not isinstance(value, str):
            return None
        index.setdefault(value.lower(), []).append(position)
    return index


def _narrowed(
    docs: list[dict[str, Any]], criteria: SearchCriteria, indexes: Mapping[str, KeyIndex]
) -> list[dict[str, Any]]:
    """The documents that can satisfy a filter group made only of `eq`/`in` filters on indexed
    text fields (every match of the search is among them), in their original order.

    Groups are AND'ed, so such a group alone bounds the result: a read-back of a few thousand
    SKUs looks them up instead of testing every row. `apply` still tests every filter on what
    is left, so the result is exactly the full scan's.
    """
    for group in criteria.filter_groups:
        if not all(f.field in indexes and f.condition_type in ("eq", "in") for f in group):
            continue
        positions: set[int] = set()
        for flt in group:
            keys = flt.listed[0] if flt.condition_type == "in" else (flt.value.lower(),)
            for key in keys:
                positions.update(indexes[flt.field].get(key, ()))
        return [docs[position] for position in sorted(positions)]
    return docs


def apply(
    docs: list[dict[str, Any]],
    criteria: SearchCriteria,
    *,
    fields: frozenset[str] | None = None,
    get: Getter = _default_get,
    input_limits: bool = False,
    indexes: Mapping[str, KeyIndex] | None = None,
) -> Page:
    """Filter, sort and page documents. `fields` are the searchable top-level attributes; an
    unknown one raises, as MySQL's "Unknown column" surfaces as a masked 500 in Magento.
    `indexes` (from `key_index` over these same `docs`) let `eq`/`in` filters on those fields
    look rows up instead of scanning them."""
    for group in criteria.filter_groups:
        for flt in group:
            if fields is not None and flt.field not in fields:
                raise UnknownField(flt.field)
    for name, _ in criteria.sort_orders:
        if fields is not None and name not in fields:
            raise UnknownField(name)
    if indexes:
        docs = _narrowed(docs, criteria, indexes)
    selected = [
        doc
        for doc in docs
        if all(
            any(matches(get(doc, f.field), f) for f in group) for group in criteria.filter_groups
        )
    ]
    for name, direction in reversed(criteria.sort_orders):
        selected.sort(key=lambda d, n=name: _sort_key(get(d, n)), reverse=direction == "DESC")
    total = len(selected)
    page_size = criteria.page_size
    if input_limits:
        if page_size is not None and page_size > MAX_PAGE_SIZE:
            raise MagentoError("Maximum SearchCriteria pageSize is %max", {"max": MAX_PAGE_SIZE})
        if not page_size:
            page_size = DEFAULT_LIMITED_PAGE_SIZE
    if page_size:
        last_page = max(1, -(-total // page_size))
        page = min(max(criteria.current_page or 1, 1), last_page)
        selected = selected[(page - 1) * page_size : page * page_size]
    return Page(items=selected, total_count=total)


class UnknownField(Exception):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name
