"""Finance postings: one batch per day of Magento payments recorded against ERP invoices.

Each order's payment is posted once (PaymentPosting is keyed by order, and the ERP adapter
recognises its own reference), so re-running a day only adds what was missing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from exceptions_app.models import System
from integration.connectors.backoff import CircuitOpenError, ConnectorError
from integration.connectors.erp import ErpAdapter, ErpInvoice
from integration.flows.runs import flow_run, run_record_failure
from integration.locks import Lease
from integration.models import (
    FinanceBatch,
    FinanceBatchStatus,
    Flow,
    Invoice,
    Order,
    OrderErpStatus,
    PaymentPosting,
    SyncRun,
)


def invoice_record(*, order: Order, invoice: ErpInvoice) -> Invoice:
    row, _ = Invoice.objects.update_or_create(
        erp_invoice_id=invoice.erp_id,
        defaults={
            "order": order,
            "number": invoice.number,
            "state": invoice.state,
            "invoice_date": invoice.invoice_date,
            "currency_code": invoice.currency,
            "untaxed_amount": invoice.untaxed_amount,
            "tax_amount": invoice.tax_amount,
            "total_amount": invoice.total_amount,
            "amount_to_pay": invoice.amount_to_pay,
            "read_at": timezone.now(),
        },
    )
    return row


def finance_run(*, erp: ErpAdapter, day: date | None = None) -> SyncRun:
    """Post `day`'s payments (default: yesterday, local time) as one batch."""
    day = day or (timezone.localdate() - timedelta(days=1))

    def body(run: SyncRun, lease: Lease) -> None:
        start = datetime.combine(day, time.min, tzinfo=UTC)
        orders = list(
            Order.objects.filter(
                erp_status=OrderErpStatus.POSTED,
                magento_created_at__gte=start,
                magento_created_at__lt=start + timedelta(days=1),
                total_paid__gt=0,
                payment_posting__isnull=True,
            ).order_by("pk")
        )
        run.seen = len(orders)
        invoices: dict[str, ErpInvoice] = {}
        refs = [o.increment_id for o in orders]
        for chunk in range(0, len(refs), 200):
            for invoice in erp.invoices_for_references(
                refs[chunk : chunk + 200], include_draft=True
            ):
                invoices.setdefault(invoice.sale_reference, invoice)
        batch, _ = FinanceBatch.objects.get_or_create(
            day=day, defaults={"status": FinanceBatchStatus.POSTED}
        )
        for order in orders:
            invoice = invoices.get(order.increment_id)
            if invoice is None:
                # Not invoiced yet: picked up when the day is run again.
                run_record_failure(
                    run,
                    subject=f"order {order.increment_id}",
                    error="the ERP has no invoice for it yet",
                    system=System.ERP,
                )
                continue
            try:
                # Magento invoiced and charged the order: its ERP invoice is booked first
                # (invoiced on order, Tryton leaves it in draft), then paid.
                invoice = erp.invoice_post(invoice, invoice_date=day)
                reference = erp.payment_record(
                    invoice=invoice,
                    amount=order.total_paid,
                    paid_on=day,
                    reference=f"MAGENTO-{order.increment_id}",
                )
            except CircuitOpenError:
                raise
            except ConnectorError as exc:
                run_record_failure(run, subject=f"order {order.increment_id}", error=exc)
                continue
            with transaction.atomic():
                row = invoice_record(order=order, invoice=invoice)
                PaymentPosting.objects.get_or_create(
                    order=order,
                    defaults={
                        "batch": batch,
                        "invoice": row,
                        "amount": order.total_paid,
                        "erp_reference": reference,
                    },
                )
            run.posted += 1
        postings = batch.postings.all()
        batch.payments = postings.count()
        batch.amount = sum((p.amount for p in postings), Decimal(0))
        batch.failed = run.failed
        batch.status = FinanceBatchStatus.PARTIAL if run.failed else FinanceBatchStatus.POSTED
        batch.posted_at = timezone.now()
        batch.save()

    return flow_run(Flow.FINANCE, body)
