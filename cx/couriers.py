"""Where a customer (or an agent) tracks a parcel: each courier's public tracking page.

The courier is recognised from the text the ERP or the carrier mapping gives ("Royal Mail
Tracked 24", "DPD Group UK Ltd", "Evri Home Delivery"); any other courier falls back to a
multi-carrier tracker. The tracking number goes into the URL encoded, never as markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class CourierSite:
    name: str  # how the page names the courier's site
    url_template: str  # "{number}" is replaced by the URL-encoded tracking number
    names: tuple[str, ...] = ()  # lower-case words that identify the courier in free text


COURIER_SITES: tuple[CourierSite, ...] = (
    CourierSite(
        "Royal Mail",
        "https://www.royalmail.com/track-your-item#/tracking-results/{number}",
        ("royal mail", "royalmail"),
    ),
    CourierSite("DPD", "https://www.dpd.co.uk/apps/tracking/?reference={number}", ("dpd",)),
    CourierSite("Evri", "https://www.evri.com/track/parcel/{number}/details", ("evri", "hermes")),
)
GENERIC_SITE = CourierSite("17TRACK", "https://t.17track.net/en#nums={number}")


@dataclass(frozen=True)
class TrackingLink:
    number: str
    url: str
    site: str  # whose page the link opens


def courier_site(courier: str) -> CourierSite:
    """The tracking site for a courier named in free text; the generic tracker otherwise."""
    text = f" {(courier or '').lower()} "
    for site in COURIER_SITES:
        if any(f" {name}" in text for name in site.names):
            return site
    return GENERIC_SITE


def tracking_link(*, number: str, courier: str) -> TrackingLink | None:
    """The link to follow a parcel with this tracking number; None without a number."""
    number = (number or "").strip()
    if not number:
        return None
    site = courier_site(courier)
    return TrackingLink(number, site.url_template.format(number=quote(number, safe="")), site.name)
