"""Fix an unmapped shipping method: map it to a courier service, then replay the held orders."""

import re

from django.db.models import QuerySet

from exceptions_app.fixers import FixApplied, Fixer, Suggestion
from exceptions_app.models import WORKING_STATUSES, DeskException, ExceptionKind
from integration.fixers.couriers import CourierService, courier_services
from integration.fixers.forms import CarrierMappingForm
from integration.fixers.holds import held_order_rows, orders_held, orders_released_by
from integration.models import MappingSource
from integration.services import carrier_mapping_save

ACTION = "map-carrier"
KINDS = (ExceptionKind.CARRIER_UNMAPPED,)
# Words every shipping description uses, which say nothing about the courier or the service.
_NOISE = frozenset(
    [
        "select",
        "shipping",
        "method",
        "delivery",
        "rate",
        "table",
        "fixed",
        "standard",
        "the",
        "a",
        "of",
        "and",
        "-",
        "courier",
    ]
)
_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall((text or "").lower()) if w not in _NOISE}


def _description(exception: DeskException) -> str:
    order = (
        orders_held(kinds=KINDS, subject=exception.subject)
        .exclude(shipping_description="")
        .order_by("magento_created_at", "pk")
        .first()
    )
    return order.shipping_description if order else ""


def apply(*, exception: DeskException, data: dict, actor) -> FixApplied:
    mapping = carrier_mapping_save(
        magento_method=exception.subject,
        courier=data["courier"],
        service=data["service"],
        erp_carrier_id=data.get("erp_carrier_id", ""),
        actor=actor,
        note=data.get("note", ""),
        source=MappingSource.DESK,
    )
    return FixApplied(
        f"Mapped shipping method {exception.subject} to {mapping.courier} {mapping.service}.",
        {
            "method": exception.subject,
            "courier": mapping.courier,
            "service": mapping.service,
            "erp_carrier_id": mapping.erp_carrier_id,
        },
    )


def blocked(exception: DeskException) -> QuerySet[DeskException]:
    return DeskException.objects.filter(
        kind__in=KINDS, subject=exception.subject, status__in=WORKING_STATUSES
    )


def _score(description: set[str], service: CourierService) -> float:
    offered = _words(service.label)
    if not description or not offered:
        return 0.0
    return len(description & offered) / len(description | offered)


def suggestions(exception: DeskException) -> list[Suggestion]:
    description = _description(exception)
    wanted = _words(description) | _words(exception.subject.replace("_", " "))
    releases = orders_released_by(kinds=KINDS, subject=exception.subject)
    ranked = sorted(((_score(wanted, s), s) for s in courier_services()), key=lambda pair: -pair[0])
    proposed = []
    for score, service in ranked:
        if score <= 0:
            break
        shared = sorted(wanted & _words(service.label))
        proposed.append(
            Suggestion(
                title=f"Map {exception.subject} to {service.label}",
                why=(
                    f"The store describes this method as “{description or exception.subject}”; "
                    f"the {service.source} {service.label}"
                    + (f" ({service.erp_carrier_id})" if service.erp_carrier_id else "")
                    + f" shares the words {', '.join(shared)}."
                ),
                data={
                    "courier": service.courier,
                    "service": service.service,
                    "erp_carrier_id": service.erp_carrier_id,
                },
                score=round(score, 3),
                releases=releases,
            )
        )
    return proposed[:3]


def context(exception: DeskException) -> dict:
    return {"description": _description(exception)}


def held_orders(exception: DeskException):
    return held_order_rows(kinds=KINDS, subject=exception.subject)


FIXER = Fixer(
    action=ACTION,
    kinds=frozenset(KINDS),
    label="Save mapping and replay",
    form_class=CarrierMappingForm,
    template="integration/fixes/map_carrier.html",
    apply=apply,
    blocked=blocked,
    context=context,
    suggestions=suggestions,
    held_orders=held_orders,
    permission="mapping.carrier",
)
