"""Every step of the path shows its time, its source system and its SLA, and a late step is
marked late, read against a frozen clock (`order_path(now=...)`)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cx.order_path import order_path
from tests.cx.builders import dispatch, hold_address, make_order, post

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def timing(number: str, now: datetime) -> dict:
    path = order_path(increment_id=number, now=now)
    return {row.step.key: row.timing for row in path.timed_steps}


def placed(number: str, **kwargs):
    return make_order(number, magento_created_at=T0, first_seen_at=T0, **kwargs)


def test_a_new_order_is_late_once_it_has_waited_longer_than_the_stuck_limit(settings):
    settings.SYNC_ORDER_STUCK_MINUTES = 60
    placed("000000701")
    early = timing("000000701", T0 + timedelta(minutes=30))
    assert early["desk"].due_at == T0 + timedelta(minutes=60)
    assert not early["desk"].late
    late = timing("000000701", T0 + timedelta(hours=2))
    assert late["desk"].late and late["desk"].late_by == "1 h"
    assert late["desk"].sla == "in the ERP within 1 h of reaching the desk"
    assert late["erp"].late  # the same limit: it is not in the ERP either
    assert not late["warehouse"].late and late["warehouse"].due_at is None


def test_the_limit_is_read_from_the_setting(settings):
    settings.SYNC_ORDER_STUCK_MINUTES = 10
    placed("000000702")
    steps = timing("000000702", T0 + timedelta(minutes=15))
    assert steps["desk"].due_at == T0 + timedelta(minutes=10)
    assert steps["desk"].late and steps["desk"].late_by == "5 min"


def test_each_step_names_its_source_system():
    placed("000000703")
    steps = timing("000000703", T0)
    assert {key: t.source for key, t in steps.items()} == {
        "magento": "Magento",
        "desk": "Exception desk",
        "erp": "ERP",
        "warehouse": "Warehouse (ERP)",
        "told": "Magento",
    }
    assert steps["magento"].at == T0 and steps["magento"].sla == ""


def test_an_order_posted_on_time_is_not_late_and_shows_when(settings):
    settings.SYNC_ORDER_STUCK_MINUTES = 60
    order = placed("000000704")
    post(order)
    order.erp_posted_at = T0 + timedelta(minutes=20)
    order.save(update_fields=["erp_posted_at"])
    steps = timing("000000704", T0 + timedelta(hours=5))
    assert steps["erp"].at == T0 + timedelta(minutes=20) and not steps["erp"].late
    assert steps["desk"].at == T0 + timedelta(minutes=20) and not steps["desk"].late


def test_dispatch_is_late_after_the_dispatch_sla(settings):
    settings.SYNC_DISPATCH_SLA_HOURS = 48
    order = placed("000000705")
    post(order)
    order.erp_posted_at = T0
    order.save(update_fields=["erp_posted_at"])
    assert not timing("000000705", T0 + timedelta(hours=47))["warehouse"].late
    late = timing("000000705", T0 + timedelta(hours=49))["warehouse"]
    assert late.late and late.late_by == "1 h"
    assert late.sla == "dispatched within 2 days of reaching the ERP"


def test_magento_not_told_an_hour_after_dispatch_is_late():
    order = placed("000000706")
    parcel = dispatch(order, told=False)
    at = parcel.dispatched_at
    assert not timing("000000706", at + timedelta(minutes=30))["told"].late
    told = timing("000000706", at + timedelta(hours=2))["told"]
    assert told.late and told.late_by == "1 h"
    assert told.sla == "Magento told within 1 h of dispatch"


def test_magento_told_in_time_is_done_and_not_late_and_told_late_stays_late():
    on_time = placed("000000707")
    dispatch(on_time, told=True)  # told five minutes after dispatch
    steps = timing("000000707", T0 + timedelta(days=30))
    assert steps["told"].at is not None and not steps["told"].late
    slow = placed("000000708")
    parcel = dispatch(slow, told=True)
    parcel.pushed_at = parcel.dispatched_at + timedelta(hours=3)
    parcel.save(update_fields=["pushed_at"])
    told = timing("000000708", T0 + timedelta(days=30))["told"]
    assert told.late and told.late_by == "2 h"  # done, but two hours past its limit


def test_a_held_step_carries_its_exceptions_time_limit():
    order = placed("000000709")
    exception = hold_address(order)
    due = exception.sla_due_at
    assert due is not None
    before = timing("000000709", due - timedelta(minutes=1))["desk"]
    assert not before.late and before.due_at == due
    assert before.sla == "fixed within 8 h (the “Address breaks warehouse rules” time limit)"
    after = timing("000000709", due + timedelta(hours=1))["desk"]
    assert after.late and after.late_by == "1 h"


def test_the_page_marks_the_late_step_and_shows_every_steps_time_source_and_sla(client_as):
    three_hours_ago = timezone.now() - timedelta(hours=3)
    make_order("000000710", magento_created_at=three_hours_ago, first_seen_at=three_hours_ago)
    body = client_as("cx").get(reverse("cx:order_detail", args=["000000710"])).content.decode()
    assert body.count('data-testid="step-timing"') == 5
    assert body.count('data-testid="step-source"') == 5
    assert body.count('data-testid="step-sla"') == 5
    desk = body[body.index('data-step="desk"') : body.index('data-step="erp"')]
    assert 'data-late="true"' in desk and 'data-testid="late"' in desk
    magento = body[body.index('data-step="magento"') : body.index('data-step="desk"')]
    assert 'data-late="false"' in magento and 'data-testid="late"' not in magento
