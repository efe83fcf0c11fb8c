"""Writes to the integration app's mappings and order addresses: the "fix in place" half of the
exception desk. Every mapping write leaves a `MappingChange` row (who, when, from where, before
and after); the desk's fixers, the admin screen and the CSV imports all come through here.
"""

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.roles import can_act
from integration.models import (
    CarrierMapping,
    ErpItem,
    MappingChange,
    MappingSource,
    MappingTable,
    OrderAddress,
    SkuMapping,
)
from integration.postcode import UK_COUNTRIES, postcode_is_valid_uk, postcode_normalise


def _require(actor: AbstractBaseUser | None, action: str) -> None:
    if actor is not None and not can_act(actor, action):
        raise PermissionDenied(f"Your role may not change {action.split('.')[0]}s.")


def _mapping_write(
    model, *, table: str, key_field: str, key: str, values: dict[str, str], actor, note, source
):
    """Create or change one mapping row and audit it; an unchanged row writes nothing."""
    row = model.objects.select_for_update().filter(**{key_field: key}).first()
    before = {name: getattr(row, name) for name in values} if row is not None else None
    if before == values:
        return row
    if row is None:
        row = model(**{key_field: key})
    for name, value in values.items():
        setattr(row, name, value)
    row.note = note
    row.created_by = actor
    row.created_at = timezone.now()
    row.save()
    MappingChange.objects.create(
        table=table,
        key=key,
        before=before,
        after=values,
        actor=actor,
        source=source,
        note=note,
    )
    return row


def erp_item_mappable(code: str) -> ErpItem:
    """The ERP item a SKU may be mapped to: it must exist and be active."""
    item = ErpItem.objects.filter(code=code.strip()).first()
    if item is None:
        raise ValidationError(
            f"The ERP item master has no item {code!r}; pick one from the search."
        )
    if not item.active:
        raise ValidationError(
            f"ERP item {code} is inactive; orders mapped to it would be held again."
        )
    return item


@transaction.atomic
def sku_mapping_save(
    *,
    magento_sku: str,
    erp_item_code: str,
    actor: AbstractBaseUser | None,
    note: str = "",
    source: str = MappingSource.DESK,
) -> SkuMapping:
    """Map a Magento SKU to an ERP item that exists and is active (create or change)."""
    _require(actor, "mapping.sku")
    magento_sku = (magento_sku or "").strip()
    erp_item_code = (erp_item_code or "").strip()
    if not magento_sku or not erp_item_code:
        raise ValidationError("Both the Magento SKU and the ERP item code are needed.")
    item = erp_item_mappable(erp_item_code)
    return _mapping_write(
        SkuMapping,
        table=MappingTable.SKU,
        key_field="magento_sku",
        key=magento_sku,
        values={"erp_item_code": item.code},
        actor=actor,
        note=(note or "").strip(),
        source=source,
    )


@transaction.atomic
def carrier_mapping_save(
    *,
    magento_method: str,
    courier: str,
    service: str,
    actor: AbstractBaseUser | None,
    erp_carrier_id: str = "",
    note: str = "",
    source: str = MappingSource.DESK,
) -> CarrierMapping:
    """Map a Magento shipping method (`carrier_method`) to a courier and service."""
    _require(actor, "mapping.carrier")
    magento_method = (magento_method or "").strip()
    courier = (courier or "").strip()
    service = (service or "").strip()
    if not magento_method or not courier or not service:
        raise ValidationError("The shipping method, the courier and the service are all needed.")
    return _mapping_write(
        CarrierMapping,
        table=MappingTable.CARRIER,
        key_field="magento_method",
        key=magento_method,
        values={
            "courier": courier,
            "service": service,
            "erp_carrier_id": (erp_carrier_id or "").strip(),
        },
        actor=actor,
        note=(note or "").strip(),
        source=source,
    )


# The address fields a person may correct; the rest (order, type) identify the row.
ADDRESS_FIELDS = (
    "firstname",
    "lastname",
    "company",
    "street",
    "city",
    "region",
    "postcode",
    "country_id",
    "telephone",
)


def _address_snapshot(address: OrderAddress) -> dict[str, Any]:
    return {name: getattr(address, name) for name in (*ADDRESS_FIELDS, "email")}


@transaction.atomic
def order_address_correct(
    *,
    address: OrderAddress,
    actor: AbstractBaseUser | None,
    changes: Mapping[str, Any],
) -> OrderAddress:
    """Correct an order address; Magento's original is kept the first time it is changed."""
    _require(actor, "order_address.correct")
    unknown = set(changes) - set(ADDRESS_FIELDS)
    if unknown:
        raise ValidationError(f"These address fields cannot be changed: {sorted(unknown)}.")
    address = OrderAddress.objects.select_for_update().get(pk=address.pk)
    cleaned: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "street":
            lines = [value] if isinstance(value, str) else list(value)
            cleaned[name] = [line.strip() for line in lines if line and line.strip()]
            if not cleaned[name]:
                raise ValidationError("The street needs at least one line.")
        else:
            cleaned[name] = (value or "").strip()
    country = cleaned.get("country_id", address.country_id).upper()
    if "country_id" in cleaned:
        cleaned["country_id"] = country
    if "postcode" in cleaned and country in UK_COUNTRIES:
        postcode = postcode_normalise(cleaned["postcode"])
        if not postcode_is_valid_uk(postcode):
            raise ValidationError(f"{cleaned['postcode']!r} is not a valid UK postcode.")
        cleaned["postcode"] = postcode
    if address.original is None:
        address.original = _address_snapshot(address)
    for name, value in cleaned.items():
        setattr(address, name, value)
    address.corrected_by = actor
    address.corrected_at = timezone.now()
    address.save()
    return address
