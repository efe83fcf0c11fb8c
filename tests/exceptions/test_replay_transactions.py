"""A replay calls other systems with no database transaction open and no row lock held: the
exception is marked and committed first, the result recorded after (issue 8's defect)."""

import threading

import pytest
from django.db import connection, transaction

from exceptions_app import services
from exceptions_app.models import DeskException
from exceptions_app.replay import ReplayOutcome, register_replayer
from tests.factories import DeskExceptionFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_replayer_runs_outside_any_transaction_and_the_row_is_not_locked():
    ops = UserFactory(username="olivia", roles=["ops"])
    exception = DeskExceptionFactory()
    seen = {}

    def replayer(e):
        seen["in_transaction"] = connection.in_atomic_block
        seen["marked"] = DeskException.objects.get(pk=e.pk).replay_running_until is not None

        # Another worker can take the row's lock while the replayer "calls the ERP".
        def other_worker():
            with transaction.atomic():
                DeskException.objects.select_for_update(nowait=connection.vendor != "sqlite").get(
                    pk=e.pk
                )
                seen["other_got_lock"] = True
            connection.close()

        thread = threading.Thread(target=other_worker)
        thread.start()
        thread.join(timeout=10)
        return ReplayOutcome(True, "posted")

    register_replayer("sku_unknown", replayer)
    outcome = services.exception_replay(exception=exception, actor=ops)

    assert outcome.ok
    assert seen == {"in_transaction": False, "marked": True, "other_got_lock": True}
    exception.refresh_from_db()
    assert (exception.status, exception.replay_running_until) == ("resolved", None)


def test_the_fix_path_replays_outside_the_fix_transaction():
    from integration.models import SkuMapping
    from tests.factories import ErpItemFactory

    ops = UserFactory(username="olivia", roles=["ops"])
    ErpItemFactory(code="LU-MH01XSBLACK")
    exception = DeskExceptionFactory(subject="MH01-XS-Black", sku="MH01-XS-Black")
    seen = {}

    def replayer(e):
        seen["in_transaction"] = connection.in_atomic_block
        # The mapping was committed before the replay started.
        seen["mapping_committed"] = SkuMapping.objects.filter(magento_sku=e.sku).exists()
        return ReplayOutcome(True, "posted")

    register_replayer("sku_unknown", replayer)
    result = services.exception_fix(
        exception=exception, actor=ops, action="map-sku", data={"erp_item_code": "LU-MH01XSBLACK"}
    )
    assert [r.ok for r in result.outcomes] == [True]
    assert seen == {"in_transaction": False, "mapping_committed": True}
