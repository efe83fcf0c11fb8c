"""Fix an invalid delivery address: correct it (Magento's original kept), then replay the order.

The suggestion is an address that passes the warehouse's rules, built only from what the
customer gave: the postcode written the Royal Mail way (or the billing postcode of the same
town), street lines re-flowed with Royal Mail's standard abbreviations, delivery instructions
moved out of the street. It is shown as a diff and applied only when a person accepts it.
"""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms.utils import pretty_name

from exceptions_app.fixers import DiffRow, FixApplied, Fixer, Suggestion
from exceptions_app.models import WORKING_STATUSES, DeskException, ExceptionKind
from integration.address import address_check, street_reflow
from integration.fixers.forms import AddressForm
from integration.fixers.holds import held_order_rows
from integration.models import AddressType, OrderAddress
from integration.postcode import UK_COUNTRIES, postcode_is_valid_uk, postcode_normalise
from integration.services import order_address_correct

ACTION = "correct-address"
KINDS = (ExceptionKind.ADDRESS_INVALID,)
# Royal Mail's standard thoroughfare and locality abbreviations (PAF conventions).
ABBREVIATIONS = (
    ("Apartment", "Apt"),
    ("Avenue", "Ave"),
    ("Building", "Bldg"),
    ("Business Park", "Bus Pk"),
    ("Close", "Cl"),
    ("Court", "Ct"),
    ("Crescent", "Cres"),
    ("Drive", "Dr"),
    ("Estate", "Est"),
    ("Gardens", "Gdns"),
    ("House", "Ho"),
    ("Industrial", "Ind"),
    ("Lane", "Ln"),
    ("Place", "Pl"),
    ("Road", "Rd"),
    ("Square", "Sq"),
    ("Street", "St"),
    ("Terrace", "Ter"),
)
_INSTRUCTIONS = re.compile(r"\s*\(([^)]*)\)")
# Letters and digits customers mistype for each other in the inward and outward codes.
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1", "S": "5"})
_LOOKALIKES_BACK = str.maketrans({"0": "O", "1": "I", "5": "S"})


def _shipping(exception: DeskException) -> OrderAddress | None:
    if not exception.order_increment_id:
        return None
    return (
        OrderAddress.objects.filter(
            order__increment_id=exception.order_increment_id, address_type=AddressType.SHIPPING
        )
        .select_related("order", "corrected_by")
        .first()
    )


def _billing(address: OrderAddress) -> OrderAddress | None:
    return OrderAddress.objects.filter(
        order_id=address.order_id, address_type=AddressType.BILLING
    ).first()


def _passes(values: dict) -> bool:
    changes = AddressForm.changes_from(values)
    _, problems = address_check(
        **changes,
        email="",
        width=settings.SYNC_STREET_LINE_MAX,
        max_lines=settings.SYNC_STREET_LINES,
    )
    return not problems


def _postcode(address: OrderAddress, billing: OrderAddress | None) -> tuple[str, str] | None:
    """A valid UK postcode the customer most likely meant, and why."""
    if (address.country_id or "").upper() not in UK_COUNTRIES:
        return None
    written = postcode_normalise(address.postcode)
    if postcode_is_valid_uk(written):
        return (
            (written, "the postcode written the Royal Mail way")
            if written != address.postcode
            else None
        )
    if len(written) >= 6:
        outward, inward = written[:-4], written[-3:]
        fixed = f"{outward[:1]}{outward[1:].translate(_LOOKALIKES)} "
        fixed += f"{inward[:1].translate(_LOOKALIKES)}{inward[1:].translate(_LOOKALIKES_BACK)}"
        if postcode_is_valid_uk(fixed):
            return fixed, "letters and digits that look alike swapped back (O/0, I/1, S/5)"
    same_town = (
        billing is not None
        and (billing.city or "").strip().lower() == (address.city or "").strip().lower()
    )
    if same_town and postcode_is_valid_uk(postcode_normalise(billing.postcode)):
        return (
            postcode_normalise(billing.postcode),
            "the billing address in the same town has this valid postcode",
        )
    return None


def _street(lines: list[str]) -> tuple[list[str], str] | None:
    """Street lines that fit the warehouse's lines, and why; None if they already fit."""
    width, most = settings.SYNC_STREET_LINE_MAX, settings.SYNC_STREET_LINES
    if street_reflow(lines, width=width, max_lines=most) not in (None, []):
        return None
    text = ", ".join(line.strip() for line in lines if line.strip())
    reasons = []
    for long, short in ABBREVIATIONS:
        text, n = re.subn(rf"\b{long}\b", short, text)
        if n:
            reasons.append(f"{long} → {short}")
    fitted = street_reflow([text], width=width, max_lines=most)
    why = "Royal Mail's standard abbreviations (" + ", ".join(reasons) + ")" if reasons else ""
    if fitted is None:
        instructions = _INSTRUCTIONS.findall(text)
        text = _INSTRUCTIONS.sub("", text).strip(" ,")
        fitted = street_reflow([text], width=width, max_lines=most)
        if instructions:
            why += ("; " if why else "") + (
                "delivery instructions moved out of the street (add them to the courier note: "
                + "; ".join(instructions)
                + ")"
            )
    if not fitted:
        return None
    return fitted, why


def suggestions(exception: DeskException) -> list[Suggestion]:
    address = _shipping(exception)
    if address is None:
        return []
    current = AddressForm.values_from(address)
    proposed = dict(current)
    reasons = []
    postcode = _postcode(address, _billing(address))
    if postcode:
        proposed["postcode"], why = postcode
        reasons.append(f"postcode: {why}")
    street = _street(list(address.street or []))
    if street:
        lines, why = street
        for n in range(3):
            proposed[f"street_{n + 1}"] = lines[n] if n < len(lines) else ""
        reasons.append(f"street: {why or 'lines re-flowed at word boundaries'}")
    if proposed == current or not _passes(proposed):
        return []
    labels = {n: str(f.label or pretty_name(n)) for n, f in AddressForm.base_fields.items()}
    diff = [
        DiffRow(labels.get(name, name), str(current.get(name) or ""), str(proposed.get(name) or ""))
        for name in proposed
        if current.get(name) != proposed.get(name)
    ]
    return [
        Suggestion(
            title="Correct the address to pass the warehouse's rules",
            why="; ".join(reasons) + ".",
            data={k: v or "" for k, v in proposed.items()},
            score=1.0,
            releases=1,
            diff=diff,
        )
    ]


def apply(*, exception: DeskException, data: dict, actor) -> FixApplied:
    address = _shipping(exception)
    if address is None:
        raise ValidationError(
            f"Order {exception.order_increment_id or '(none)'} has no shipping address on record."
        )
    changes = AddressForm.changes_from(data)
    before = {name: getattr(address, name) for name in changes}
    address = order_address_correct(address=address, actor=actor, changes=changes)
    changed = {
        name: {"before": before[name], "after": getattr(address, name)}
        for name in changes
        if before[name] != getattr(address, name)
    }
    return FixApplied(
        f"Corrected the shipping address of order #{exception.order_increment_id}.", changed
    )


def blocked(exception: DeskException) -> QuerySet[DeskException]:
    return DeskException.objects.filter(
        kind__in=KINDS,
        order_increment_id=exception.order_increment_id,
        status__in=WORKING_STATUSES,
    )


def initial(exception: DeskException) -> dict:
    address = _shipping(exception)
    return AddressForm.values_from(address) if address is not None else {}


def context(exception: DeskException) -> dict:
    return {"address": _shipping(exception)}


def held_orders(exception: DeskException):
    return held_order_rows(kinds=KINDS, subject=exception.subject)


FIXER = Fixer(
    action=ACTION,
    kinds=frozenset(KINDS),
    label="Save address and replay",
    form_class=AddressForm,
    template="integration/fixes/correct_address.html",
    apply=apply,
    blocked=blocked,
    context=context,
    initial=initial,
    suggestions=suggestions,
    held_orders=held_orders,
    permission="order_address.correct",
)
