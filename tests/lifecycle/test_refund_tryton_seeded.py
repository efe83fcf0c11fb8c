"""The store `make run` seeds, against a real Tryton: every refund case (full, partial, shipping
only, goodwill, before dispatch) becomes one posted credit note of what Magento refunded."""

from decimal import Decimal

import pytest

from integration.flows.refunds import refunds_run
from integration.models import CreditMemo, CreditMemoErpStatus, RunStatus
from sandbox.magento.testing import seed_app
from tests.lifecycle.refund_scenarios import adapter_for, own_tryton, store_to_erp
from tests.sync.conftest import magento_for

pytestmark = pytest.mark.django_db

erp_server = pytest.fixture(scope="module")(own_tryton)


def test_every_seeded_refund_is_one_posted_tryton_credit_note_of_its_amount(
    magento_today, carrier_mappings, erp_server
):
    report = seed_app(magento_today, orders=60, days=20, seed=1)
    cases = {k: v for k, v in report.causes.items() if k.startswith("refund_")}
    assert len(cases) == 5
    with adapter_for(erp_server) as erp:
        store_to_erp(magento_today, erp)
        with magento_for(magento_today) as magento:
            run = refunds_run(magento=magento, erp=erp)
        assert run.status == RunStatus.SUCCEEDED, run.error
        memos = list(CreditMemo.objects.select_related("order"))
        assert run.posted == len(memos) == sum(len(v) for v in cases.values())
        for memo in memos:
            assert memo.erp_status == CreditMemoErpStatus.POSTED, memo.order.increment_id
            note = erp.credit_note_find(memo.refund_key)
            assert note.posted and note.number.startswith("CRN")
            lines = memo.lines.count() + bool(memo.shipping_amount) + 1
            assert abs(note.total_amount - memo.grand_total) <= Decimal("0.01") * lines
        with magento_for(magento_today) as magento:
            assert refunds_run(magento=magento, erp=erp).posted == 0
