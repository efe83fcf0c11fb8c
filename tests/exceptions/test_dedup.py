"""One live exception per fingerprint, even when two workers raise it at the same instant."""

import threading

import pytest
from django.db import IntegrityError, connection, connections, transaction

from exceptions_app.models import DeskException
from exceptions_app.services import exception_raise
from tests.factories import DeskExceptionFactory


@pytest.mark.django_db
def test_the_database_refuses_a_second_live_record_for_a_fingerprint():
    DeskExceptionFactory(subject="MH01-XS-Black")
    with pytest.raises(IntegrityError), transaction.atomic():
        DeskExceptionFactory(subject="MH01-XS-Black")


@pytest.mark.django_db
def test_closed_records_do_not_hold_the_fingerprint():
    DeskExceptionFactory(subject="MH01-XS-Black", status="resolved")
    DeskExceptionFactory(subject="MH01-XS-Black", status="open")
    assert DeskException.objects.filter(fingerprint="sku_unknown:MH01-XS-Black").count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_workers_raising_the_same_fingerprint_at_once_make_one_record():
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL: SQLite serialises writers with one database lock, so two "
            "threads can never race here (the suite runs this test on PostgreSQL)"
        )
    rounds = 5
    for round_no in range(rounds):
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []
        sku = f"RACE-{round_no}"

        def worker(barrier=barrier, sku=sku, errors=errors):
            try:
                barrier.wait(timeout=10)
                exception_raise(
                    kind="sku_unknown", subject=sku, sku=sku, system="erp", message="race"
                )
            except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
        rows = DeskException.objects.filter(fingerprint=f"sku_unknown:{sku}")
        assert rows.count() == 1
        assert rows.get().occurrences == 2
