"""Which ERP item a Magento SKU most likely means, ranked by code and name similarity.

Item masters that drift from the web catalogue keep the style code and reshape the rest
("MH01-XS-Black" filed as "LU-MH01XSBLACK"), so codes are compared with punctuation and case
squashed, a code that contains the whole squashed SKU ranks first, and the product name breaks
ties between variants.
"""

import html
import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from django.db.models import Q

from integration.models import ErpItem

CANDIDATES_READ = 500
_NOT_ALNUM = re.compile(r"[^0-9A-Z]")


def squash(code: str) -> str:
    return _NOT_ALNUM.sub("", (code or "").upper())


def _ratio(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b).ratio() if a and b else 0.0


@dataclass(frozen=True)
class RankedItem:
    item: ErpItem
    score: float
    why: str

    @property
    def name(self) -> str:
        return html.unescape(self.item.name)


def _code_score(sku: str, code: str) -> tuple[float, str]:
    if sku == code:
        return 1.0, "the same code once punctuation and case are ignored"
    if sku and sku in code:
        return 0.95, f"its code contains the whole SKU ({code} ⊃ {sku})"
    if code and code in sku:
        return 0.85, f"the SKU contains its whole code ({sku} ⊃ {code})"
    return 0.8 * _ratio(sku, code), "a similar code"


def items_ranked(*, sku: str, name: str = "", query: str = "", limit: int = 10) -> list[RankedItem]:
    """ERP items ranked for `sku` (and the Magento line's `name`); `query` narrows the search."""
    squashed = squash(sku)
    style = (query or sku).split("-")[0].strip()
    items = ErpItem.objects.all()
    if style:
        items = items.filter(Q(code__icontains=style) | Q(name__icontains=style))
    ranked = []
    wanted_name = html.unescape(name or "").lower()
    for item in items.order_by("-active", "code")[:CANDIDATES_READ]:
        code_score, why = _code_score(squashed, squash(item.code))
        name_score = _ratio(wanted_name, html.unescape(item.name).lower())
        score = 0.75 * code_score + 0.25 * name_score if wanted_name else code_score
        if name_score > 0.9 and wanted_name:
            why += " and the same product name"
        ranked.append(RankedItem(item, round(score, 3), why))
    ranked.sort(key=lambda r: (not r.item.active, -r.score, r.item.code))
    return ranked[:limit]
