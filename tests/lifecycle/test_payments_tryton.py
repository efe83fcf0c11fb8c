"""Payment posting against a real Tryton: a day's Magento payments are recorded against the
sales' ERP invoices, once, and leave each invoice paid in the ERP."""

from datetime import UTC
from decimal import Decimal

import pytest

from integration.flows.finance import finance_run
from integration.models import (
    FinanceBatch,
    FinanceBatchStatus,
    Order,
    OrderErpStatus,
    PaymentPosting,
    RunStatus,
)
from sandbox.magento.seed import Shares
from sandbox.magento.testing import seed_app
from tests.lifecycle.refund_scenarios import adapter_for, own_tryton, store_to_erp

pytestmark = pytest.mark.django_db

erp_server = pytest.fixture(scope="module")(own_tryton)


def test_a_days_payments_are_recorded_once_against_the_erp_invoices_which_are_then_paid(
    magento_today, carrier_mappings, erp_server
):
    seed_app(magento_today, orders=30, days=6, seed=3, shares=Shares(refunds=0))
    with adapter_for(erp_server) as erp:
        posted = store_to_erp(magento_today, erp)
        day = posted[0].magento_created_at.astimezone(UTC).date()
        # Every order of that (UTC) day in the ERP, the history posted for the books included.
        of_the_day = [
            o
            for o in Order.objects.filter(erp_status=OrderErpStatus.POSTED, total_paid__gt=0)
            if o.magento_created_at.astimezone(UTC).date() == day
        ]
        assert len(of_the_day) >= 2
        run = finance_run(erp=erp, day=day)
        assert run.status == RunStatus.SUCCEEDED, run.error
        assert run.posted == len(of_the_day) == run.seen
        batch = FinanceBatch.objects.get(day=day)
        assert batch.status == FinanceBatchStatus.POSTED
        assert batch.amount == sum((o.total_paid for o in of_the_day), Decimal(0))
        invoices = {i.sale_reference: i for i in erp.invoices_for_references(
            [o.increment_id for o in of_the_day])}  # fmt: skip
        for order in of_the_day:
            posting = PaymentPosting.objects.get(order=order)
            invoice = invoices[order.increment_id]
            assert posting.invoice.erp_invoice_id == invoice.erp_id
            # Tryton's own total (document VAT rounding) is what Magento charged, give or take
            # a penny a line; a penny short leaves a penny to pay.
            assert invoice.state in ("paid", "posted")
            assert invoice.amount_to_pay == invoice.total_amount - order.total_paid or (
                invoice.state == "paid" and invoice.amount_to_pay == 0
            )
        assert any(i.state == "paid" for i in invoices.values())

        # The same day again: nothing is recorded twice, in the desk or in the ERP.
        again = finance_run(erp=erp, day=day)
        assert again.status == RunStatus.SUCCEEDED and again.posted == 0
        with erp_server.rest() as rest:
            statements = rest.search("account.statement", [], ["name"])
        names = [s["name"] for s in statements]
        assert sorted(names) == sorted(f"MAGENTO-{o.increment_id}" for o in of_the_day)
        assert Order.objects.filter(payment_posting__isnull=False).count() == len(of_the_day)
