"""The courier services a shipping method can be mapped to: the ERP's carrier services, and
the services existing mappings already use. Read from the ERP at most every few minutes.
"""

import logging
import re
from dataclasses import dataclass

from django.core.cache import cache

from integration.connections import erp_adapter
from integration.connectors.backoff import ConnectorError
from integration.models import CarrierMapping

logger = logging.getLogger(__name__)

CACHE_KEY = "integration:erp-carrier-services"
CACHE_SECONDS = 300
_COMPANY_WORDS = re.compile(r"\b(group|ltd|limited|plc|uk|gb|parcels|services)\b\.?", re.I)


@dataclass(frozen=True)
class CourierService:
    courier: str  # e.g. "DPD"
    service: str  # e.g. "Next Day" (without the courier's name)
    erp_carrier_id: str  # the ERP's carrier service code, e.g. "DPD-1^12"
    source: str  # "ERP carrier service" or "existing mapping"

    @property
    def label(self) -> str:
        return f"{self.courier} {self.service}".strip()


def courier_short_name(party: str) -> str:
    """ "Royal Mail Group Ltd" → "Royal Mail": the name a person says."""
    return re.sub(r"\s+", " ", _COMPANY_WORDS.sub("", party or "")).strip(" ,.") or party


def service_without_courier(service: str, courier: str) -> str:
    """ "Royal Mail Tracked 24" → "Tracked 24", so labels never say the courier twice."""
    if courier and service.lower().startswith(courier.lower() + " "):
        return service[len(courier) + 1 :].strip()
    return service


def _from_erp() -> list[CourierService]:
    cached = cache.get(CACHE_KEY)
    if cached is not None:
        return cached
    try:
        with erp_adapter() as erp:
            rows = erp.carrier_services()
    except ConnectorError as exc:
        # The suggestion then draws on existing mappings only; the page still works.
        logger.warning("ERP carrier services unavailable for suggestions: %s", exc)
        return []
    services = []
    for row in rows:
        courier = courier_short_name(row.courier)
        services.append(
            CourierService(
                courier, service_without_courier(row.name, courier), row.code, "ERP carrier service"
            )
        )
    cache.set(CACHE_KEY, services, CACHE_SECONDS)
    return services


def courier_services() -> list[CourierService]:
    found: dict[str, CourierService] = {}
    for service in _from_erp():
        found[service.erp_carrier_id or service.label] = service
    for mapping in CarrierMapping.objects.order_by("pk"):
        key = mapping.erp_carrier_id or f"{mapping.courier} {mapping.service}"
        courier = mapping.courier
        found.setdefault(
            key,
            CourierService(
                courier,
                service_without_courier(mapping.service, courier),
                mapping.erp_carrier_id,
                "existing mapping",
            ),
        )
    return list(found.values())
