"""The Tryton adapter credits a sale the way a Tryton shop does: a sale return whose credit note
is posted, whose returned goods count as stock only once the warehouse receives them."""

import uuid
from datetime import date
from decimal import Decimal

import pytest

from integration.connectors.erp import (
    CreditLineRequest,
    CreditNoteRequest,
    SaleLineRequest,
    SaleRequest,
)
from integration.connectors.tryton.transport import TrytonRejected

pytestmark = pytest.mark.django_db

BAG, TEE = "24-MB01", "MS10-XS-Blue"


def sale_request(reference: str) -> SaleRequest:
    return SaleRequest(
        reference=reference, currency="GBP", sale_date=date.today(), customer_name="Ann Lee",
        customer_email=f"{reference.lower()}@example.com", telephone="01234 567890", company="",
        street=("1 High Street",), city="Rugby", region="", postcode="CV21 1DZ", country="GB",
        carrier="RM-TPN24", shipping_amount=Decimal("3.2917"),
        lines=(
            SaleLineRequest(BAG, Decimal(2), Decimal("28.3333"), BAG),
            SaleLineRequest(TEE, Decimal(1), Decimal("17.5000"), TEE),
        ),
    )  # fmt: skip


def receive_returns(tryton_server, shipment_ids):
    with tryton_server.rest(warehouse=True) as rest:
        for shipment_id in shipment_ids:
            rest.action("stock.shipment.out.return", int(shipment_id), "receive")
            rest.action("stock.shipment.out.return", int(shipment_id), "do")


def test_a_partial_credit_note_credits_exactly_what_was_refunded_and_stock_waits_for_the_parcel(
    tryton, tryton_server
):
    reference = f"RF-{uuid.uuid4().hex[:8]}"
    tryton.sale_create(sale_request(reference))
    before = tryton.availability([BAG])[BAG]
    request = CreditNoteRequest(
        reference=f"{reference}/CM1",
        sale_reference=reference,
        credit_date=date.today(),
        lines=(
            CreditLineRequest(BAG, Decimal(1), Decimal("28.3333"), "Joust Duffle Bag", True),
            CreditLineRequest(TEE, Decimal(1), Decimal("17.5000"), "Tee (kept)", False),
        ),
        shipping_amount=Decimal("3.2917"),
        adjustment=Decimal("2.00"),
        comment="Magento credit memo 1",
    )
    assert tryton.credit_note_find(request.reference) is None
    note = tryton.credit_note_create(request)
    assert note.posted and note.number.startswith("CRN")
    # 28.33 + 17.50 + 3.29 net, 20% VAT (document rounding), and the untaxed £2.00.
    untaxed = Decimal("28.33") + Decimal("17.50") + Decimal("3.29") + Decimal("2.00")
    assert note.untaxed_amount == untaxed
    assert note.tax_amount == Decimal("9.82")  # 20% of 49.12
    assert note.total_amount == untaxed + Decimal("9.82")
    (return_id,) = note.returns  # only the bag comes back
    with tryton_server.rest() as rest:
        moves = rest.search(
            "stock.move",
            [["shipment", "=", f"stock.shipment.out.return,{return_id}"]],
            ["product.code", "quantity", "planned_date"],
        )
        sale = rest.search("sale.sale", [["reference", "=", request.reference]], ["origin"])
    assert {(m["product"]["code"], m["quantity"]) for m in moves if m["product"]} == {(BAG, 1.0)}
    assert sale[0]["origin"].startswith("sale.sale,")
    # The parcel is not here yet: the ERP does not count it as available.
    assert tryton.availability([BAG])[BAG] == before
    receive_returns(tryton_server, note.returns)
    assert tryton.availability([BAG])[BAG] == before + 1
    # Asked again, the ERP has it: the same note, not a second one.
    again = tryton.credit_note_find(request.reference)
    assert (again.erp_id, again.number) == (note.erp_id, note.number)
    assert tryton.credit_note_settle(note.erp_id).number == note.number


def test_a_credit_note_for_a_sale_the_erp_does_not_have_is_refused_with_the_reason(tryton):
    request = CreditNoteRequest(
        reference=f"NOPE-{uuid.uuid4().hex[:8]}/CM1",
        sale_reference="NO-SUCH-SALE",
        credit_date=date.today(),
        lines=(CreditLineRequest(BAG, Decimal(1), Decimal("28.3333"), BAG, True),),
    )
    with pytest.raises(TrytonRejected, match="no confirmed sale NO-SUCH-SALE"):
        tryton.credit_note_create(request)
    assert tryton.credit_note_find(request.reference) is None
