"""An ERP stand-in that only lists carrier services, for the carrier fix's suggestion."""

from integration.connectors.erp import ErpAdapter, ErpCarrierService

CARRIER_SERVICES = (
    ErpCarrierService("RM-TPN24", "Royal Mail Tracked 24", "Royal Mail Group Ltd"),
    ErpCarrierService("DPD-1^12", "DPD Next Day", "DPD Group UK Ltd"),
    ErpCarrierService("EVRI-HOME", "Evri Home Delivery", "Evri"),
)


class ErpWithCarriers(ErpAdapter):
    def carrier_services(self) -> list[ErpCarrierService]:
        return list(CARRIER_SERVICES)
