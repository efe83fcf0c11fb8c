"""Magento shipping methods → courier services, and courier names → Magento track carriers."""

from __future__ import annotations

# Magento's built-in online carriers; anything else is sent as `custom` with the courier's
# name as the track title (erp-and-uk-rules.md §5.2, CONTRACT shipping_method_codes.json).
MAGENTO_TRACK_CARRIERS = {"ups": "ups", "usps": "usps", "fedex": "fedex", "dhl": "dhl"}


def track_carrier_code(courier: str) -> str:
    """`carrier_code` for a Magento track: Magento's own code if it knows the courier."""
    first = (courier or "").strip().split(" ")[0].lower()
    return MAGENTO_TRACK_CARRIERS.get(first, "custom")


def shipping_method_split(method: str) -> tuple[str, str]:
    """(`carrier_code`, `method_code`), splitting on the first underscore as Magento does."""
    carrier, _, code = (method or "").partition("_")
    return carrier, code
