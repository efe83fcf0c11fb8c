"""Orders between Magento and the ERP, one module per job:

- `payload`: Magento's order JSON as mirror rows; `upsert`: the mirror's set-based write path;
- `validation`: the causes that hold an order, or the sale to create; `items`: the ErpItem
  mirror refreshed from what validation read;
- `holds`: holds and their exceptions; `claims`: the post claim on the order row;
- `posting`: the post under a claim, and `post_failed`, the one place a failed post is settled.

The orchestration (validate a batch, then hold or post each order) is `orders_process` in
`integration.flows.orders_out`, the one path of the flow and of every replay.
"""

from integration.orders.holds import orders_hold
from integration.orders.posting import PostOutcome, PostStatus, order_post, post_failed
from integration.orders.upsert import UpsertCounts, orders_upsert
from integration.orders.validation import (
    Cause,
    ValidationContext,
    context_build,
    order_validate,
    orders_for_validation,
)

__all__ = [
    "Cause",
    "PostOutcome",
    "PostStatus",
    "UpsertCounts",
    "ValidationContext",
    "context_build",
    "order_post",
    "orders_for_validation",
    "orders_hold",
    "orders_upsert",
    "order_validate",
    "post_failed",
]
