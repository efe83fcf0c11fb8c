"""Magento's searchCriteria query parameters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

MAGENTO_TIME = "%Y-%m-%d %H:%M:%S"


@dataclass
class SearchCriteria:
    """Magento searchCriteria: filters in one group are OR'ed, groups are AND'ed."""

    groups: list[list[tuple[str, str, str]]] = field(default_factory=list)
    sort: list[tuple[str, str]] = field(default_factory=list)
    page_size: int | None = None
    current_page: int | None = None

    def where(self, field_name: str, value: object, condition: str = "eq") -> SearchCriteria:
        self.groups.append([(field_name, _criteria_value(value), condition)])
        return self

    def any_of(self, *filters: tuple[str, object, str]) -> SearchCriteria:
        self.groups.append([(f, _criteria_value(v), c) for f, v, c in filters])
        return self

    def order_by(self, field_name: str, direction: str = "ASC") -> SearchCriteria:
        self.sort.append((field_name, direction))
        return self

    def params(self) -> list[tuple[str, str]]:
        """Query parameters in the documented snake_case form."""
        out: list[tuple[str, str]] = []
        for g, group in enumerate(self.groups):
            for f, (name, value, condition) in enumerate(group):
                prefix = f"searchCriteria[filter_groups][{g}][filters][{f}]"
                out += [
                    (f"{prefix}[field]", name),
                    (f"{prefix}[value]", value),
                    (f"{prefix}[condition_type]", condition),
                ]
        for n, (name, direction) in enumerate(self.sort):
            out += [
                (f"searchCriteria[sortOrders][{n}][field]", name),
                (f"searchCriteria[sortOrders][{n}][direction]", direction),
            ]
        if self.page_size is not None:
            out.append(("searchCriteria[pageSize]", str(self.page_size)))
        if self.current_page is not None:
            out.append(("searchCriteria[currentPage]", str(self.current_page)))
        if not out:
            # A list call without any searchCriteria is a 400 ("searchCriteria" is required).
            out.append(("searchCriteria", ""))
        return out


def _criteria_value(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime(MAGENTO_TIME)
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(str(v) for v in value)
    return str(value)
