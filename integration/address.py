"""Warehouse address rules: street lines re-flowed to the line limits, never silently cut.

A house or flat number lost to truncation sends a parcel to the wrong door, so an address that
cannot be re-flowed into the warehouse's lines at word boundaries is held, naming the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from integration.postcode import UK_COUNTRIES, postcode_is_valid_uk, postcode_normalise


@dataclass(frozen=True)
class AddressProblem:
    field: str
    message: str


@dataclass(frozen=True)
class ShippingAddress:
    """The address as the warehouse gets it: lines within limits, postcode normalised."""

    name: str
    company: str
    street: tuple[str, ...]
    city: str
    region: str
    postcode: str
    country: str
    telephone: str
    email: str


def _wrap(text: str, width: int) -> list[str] | None:
    """Greedy word wrap; None when one word alone is longer than a line."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        if len(word) > width:
            return None
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= width:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


def street_reflow(street: list[str], *, width: int, max_lines: int) -> list[str] | None:
    """Fit street lines into `max_lines` lines of `width` characters, or None if impossible.

    Keeps the customer's own line breaks when they fit; otherwise wraps each line at word
    boundaries; otherwise joins everything and wraps it as one text. Never drops a character
    other than repeated whitespace.
    """
    cleaned = [re.sub(r"\s+", " ", line).strip() for line in street if line and line.strip()]
    if not cleaned:
        return []
    if len(cleaned) <= max_lines and all(len(line) <= width for line in cleaned):
        return cleaned
    per_line: list[str] = []
    for line in cleaned:
        wrapped = _wrap(line, width)
        if wrapped is None:
            per_line = []
            break
        per_line.extend(wrapped)
    if per_line and len(per_line) <= max_lines:
        return per_line
    joined = _wrap(", ".join(cleaned), width)
    if joined is not None and len(joined) <= max_lines:
        return joined
    return None


_PHONE_DIGITS = re.compile(r"\d")


def address_check(
    *,
    firstname: str,
    lastname: str,
    company: str,
    street: list[str],
    city: str,
    region: str,
    postcode: str,
    country_id: str,
    telephone: str,
    email: str,
    width: int,
    max_lines: int,
) -> tuple[ShippingAddress | None, list[AddressProblem]]:
    """The warehouse-ready address, or every rule it breaks (one problem per field)."""
    problems: list[AddressProblem] = []
    name = f"{firstname or ''} {lastname or ''}".strip()
    if not name:
        problems.append(AddressProblem("name", "The recipient's name is empty."))
    lines = street_reflow(list(street or []), width=width, max_lines=max_lines)
    if lines is None:
        problems.append(
            AddressProblem(
                "street",
                f"The street ({' / '.join(street)}) does not fit {max_lines} lines of {width} "
                "characters at word boundaries; it would have to be cut.",
            )
        )
    elif not lines:
        problems.append(AddressProblem("street", "The street is empty."))
    if not (city or "").strip():
        problems.append(AddressProblem("city", "The town or city is empty."))
    elif len(city.strip()) > width:
        problems.append(
            AddressProblem("city", f"The town “{city.strip()}” is longer than {width} characters.")
        )
    country = (country_id or "").strip().upper()
    if not country:
        problems.append(AddressProblem("country_id", "The country is empty."))
    normalised = postcode_normalise(postcode)
    if country in UK_COUNTRIES:
        if not postcode_is_valid_uk(normalised):
            problems.append(AddressProblem("postcode", f"“{postcode}” is not a valid UK postcode."))
    elif not normalised and country:
        problems.append(AddressProblem("postcode", "The postcode is empty."))
    if len(_PHONE_DIGITS.findall(telephone or "")) < 7:
        problems.append(
            AddressProblem(
                "telephone",
                "No usable phone number; couriers need one to arrange delivery."
                if not (telephone or "").strip()
                else f"“{telephone}” is not a usable phone number.",
            )
        )
    if problems:
        return None, problems
    return (
        ShippingAddress(
            name=name,
            company=(company or "").strip(),
            street=tuple(lines or ()),
            city=city.strip(),
            region=(region or "").strip(),
            postcode=normalised,
            country=country,
            telephone=telephone.strip(),
            email=(email or "").strip(),
        ),
        [],
    )
