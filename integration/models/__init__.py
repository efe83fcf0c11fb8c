"""The mirror of what Magento and the ERP reported, the mappings between them, and sync runs.

Mirror rows snapshot what the source said (amounts as Decimal, the raw payload kept) so a
later check can compare, and a person can see exactly what arrived. One module per topic;
every model is importable from here.
"""

from exceptions_app.models import System
from integration.models.catalogue import (
    CarrierMapping,
    ErpItem,
    MappingAudit,
    MappingChange,
    MappingSource,
    MappingTable,
    SkuMapping,
)
from integration.models.fields import MONEY, QTY
from integration.models.finance import (
    CreditMemo,
    CreditMemoErpStatus,
    CreditMemoLine,
    CreditMemoState,
    FinanceBatch,
    FinanceBatchStatus,
    Invoice,
    PaymentPosting,
)
from integration.models.fulfilment import Shipment
from integration.models.orders import (
    ORDER_NUMBER_PREFIX,
    AddressType,
    Order,
    OrderAddress,
    OrderErpStatus,
    OrderHold,
    OrderLine,
    email_key,
    name_key,
    order_number_key,
    postcode_key,
)
from integration.models.runs import (
    Flow,
    FlowLock,
    QuarantinedWindow,
    QuarantineStatus,
    RunErrorKind,
    RunStatus,
    SyncRun,
    Watermark,
)
from integration.models.stock import PushStatus, StockLevel, StockPush

__all__ = [
    "AddressType",
    "CarrierMapping",
    "CreditMemo",
    "CreditMemoErpStatus",
    "CreditMemoLine",
    "CreditMemoState",
    "ErpItem",
    "FinanceBatch",
    "FinanceBatchStatus",
    "Flow",
    "FlowLock",
    "Invoice",
    "MONEY",
    "MappingAudit",
    "MappingChange",
    "MappingSource",
    "MappingTable",
    "ORDER_NUMBER_PREFIX",
    "Order",
    "OrderAddress",
    "OrderErpStatus",
    "OrderHold",
    "OrderLine",
    "PaymentPosting",
    "PushStatus",
    "QTY",
    "QuarantineStatus",
    "QuarantinedWindow",
    "RunErrorKind",
    "RunStatus",
    "Shipment",
    "SkuMapping",
    "StockLevel",
    "StockPush",
    "SyncRun",
    "System",
    "Watermark",
    "email_key",
    "name_key",
    "order_number_key",
    "postcode_key",
]
