"""Fix an unknown or inactive SKU: map it to an active ERP item, then replay the held orders."""

from django.db.models import QuerySet

from exceptions_app.fixers import FixApplied, Fixer, Suggestion
from exceptions_app.models import WORKING_STATUSES, DeskException, ExceptionKind
from integration.fixers.forms import SkuMappingForm
from integration.fixers.holds import held_order_rows, orders_held, orders_released_by
from integration.fixers.ranking import items_ranked
from integration.models import ErpItem, MappingSource, OrderLine, SkuMapping
from integration.services import sku_mapping_save

ACTION = "map-sku"
SKU_KINDS = (ExceptionKind.SKU_UNKNOWN, ExceptionKind.SKU_INACTIVE)
# Below this a candidate is listed, not proposed: a sibling variant is no likely meaning.
SUGGEST_FROM = 0.85


def _sku(exception: DeskException) -> str:
    return exception.sku or exception.subject


def _line(exception: DeskException) -> OrderLine | None:
    """The order line as Magento sent it, from the first order the SKU holds."""
    held = orders_held(kinds=SKU_KINDS, subject=exception.subject)
    return (
        OrderLine.objects.filter(order__in=held, sku=_sku(exception))
        .select_related("order")
        .order_by("order__magento_created_at", "pk")
        .first()
    )


def apply(*, exception: DeskException, data: dict, actor) -> FixApplied:
    sku = _sku(exception)
    mapping = sku_mapping_save(
        magento_sku=sku,
        erp_item_code=data["erp_item_code"],
        actor=actor,
        note=data.get("note", ""),
        source=MappingSource.DESK,
    )
    return FixApplied(
        f"Mapped Magento SKU {sku} to ERP item {mapping.erp_item_code}.",
        {"sku": sku, "erp_item_code": mapping.erp_item_code},
    )


def blocked(exception: DeskException) -> QuerySet[DeskException]:
    return DeskException.objects.filter(
        kind__in=SKU_KINDS, sku=_sku(exception), status__in=WORKING_STATUSES
    )


def context(exception: DeskException) -> dict:
    line = _line(exception)
    query = _sku(exception).split("-")[0]
    return {
        "erp_query": query,
        "erp_items": items_ranked(sku=_sku(exception), name=line.name if line else "", query=query),
        "mapping": SkuMapping.objects.filter(magento_sku=_sku(exception)).first(),
    }


def evidence(exception: DeskException) -> dict:
    """The order line as Magento sent it beside what the ERP's item master has."""
    sku = _sku(exception)
    line = _line(exception)
    mapping = SkuMapping.objects.filter(magento_sku=sku).first()
    code = mapping.erp_item_code if mapping else sku
    item = ErpItem.objects.filter(code=code).first()
    erp = {
        "code": item.code if item else f"no item {code}",
        "name": item.name if item else "—",
        "active": ("yes" if item.active else "no (inactive)") if item else "—",
    }
    magento = {
        "code": sku,
        "name": line.name if line else "—",
        "active": "sold on the store",
    }
    rows = {
        "SKU / item code": {"magento": magento["code"], "erp": erp["code"]},
        "Name": {"magento": magento["name"], "erp": erp["name"]},
        "Active": {"magento": magento["active"], "erp": erp["active"]},
    }
    if line is not None:
        rows["Order line"] = {
            "magento": f"#{line.order.increment_id}: {line.qty_ordered.normalize():f} × "
            f"{line.price:.2f} {line.order.currency_code} ({line.product_type})",
            "erp": "—",
        }
    if mapping is not None:
        rows["Mapping"] = {"magento": sku, "erp": f"mapped to {mapping.erp_item_code}"}
    return {"compared": rows}


def suggestions(exception: DeskException) -> list[Suggestion]:
    sku = _sku(exception)
    line = _line(exception)
    releases = orders_released_by(kinds=SKU_KINDS, subject=exception.subject)
    proposed = []
    for ranked in items_ranked(sku=sku, name=line.name if line else ""):
        if not ranked.item.active or ranked.score < SUGGEST_FROM or ranked.item.code == sku:
            continue
        proposed.append(
            Suggestion(
                title=f"Map {sku} to {ranked.item.code} ({ranked.name})",
                why=f"The ERP item {ranked.item.code} is the closest match: {ranked.why}.",
                data={"erp_item_code": ranked.item.code},
                score=ranked.score,
                releases=releases,
            )
        )
    return proposed[:3]


def held_orders(exception: DeskException):
    return held_order_rows(kinds=SKU_KINDS, subject=exception.subject)


FIXER = Fixer(
    action=ACTION,
    kinds=frozenset(SKU_KINDS),
    label="Save mapping and replay",
    form_class=SkuMappingForm,
    template="integration/fixes/map_sku.html",
    apply=apply,
    blocked=blocked,
    context=context,
    suggestions=suggestions,
    held_orders=held_orders,
    evidence=evidence,
    permission="mapping.sku",
)
