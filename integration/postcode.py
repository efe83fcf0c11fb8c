"""UK postcodes: normalise the way Royal Mail writes them, then validate.

The pattern is the GOV.UK Bulk Data Transfer one (erp-and-uk-rules.md §5.3), anchored as a whole
(the published form binds ^ and $ to the outer alternatives only) and taking exactly one space.
"""

import re

_UK_POSTCODE = re.compile(
    r"^(?:(?:GIR 0AA)|(?:(?:(?:[A-Z][0-9]{1,2})|(?:(?:[A-Z][A-HJ-Y][0-9]{1,2})|"
    r"(?:(?:[A-Z][0-9][A-Z])|(?:[A-Z][A-HJ-Y][0-9]?[A-Z])))) [0-9][A-Z]{2}))$"
)
# British Forces Post Office addresses are valid UK postcodes outside the geographic pattern.
_BFPO = re.compile(r"^BFPO ?[0-9]{1,4}$")

UK_COUNTRIES = frozenset({"GB", "UK", "GG", "JE", "IM"})


def postcode_normalise(raw: str) -> str:
    """Uppercase, drop spaces, one space before the inward code ("sw1a1aa" → "SW1A 1AA")."""
    compact = re.sub(r"\s+", "", raw or "").upper()
    if compact.startswith("BFPO"):
        return f"BFPO {compact[4:]}".strip()
    if len(compact) < 5:
        return compact
    return f"{compact[:-3]} {compact[-3:]}"


def postcode_is_valid_uk(normalised: str) -> bool:
    if _BFPO.match(normalised):
        return True
    # BS7666: no postcode area starts with Q, V or X (the GOV.UK pattern lets them through).
    return bool(_UK_POSTCODE.match(normalised)) and normalised[0] not in "QVX"
