"""The ops queue: scoped to the user's team, filters in the URL, htmx fragments, bulk actions
with a row-by-row report, role checks, and a query count that does not grow with the page."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from exceptions_app.models import DeskException
from exceptions_app.replay import ReplayOutcome, register_replayer
from tests.factories import DeskExceptionFactory, UserFactory

pytestmark = pytest.mark.django_db
QUEUE = "/ops/exceptions/"


def _ids(response) -> set[int]:
    return {row.record.pk for row in response.context["table"].paginated_rows}


def test_empty_queue_says_nothing_needs_work(client_as):
    response = client_as("ops").get(QUEUE)
    assert response.status_code == 200
    assert "Nothing needs work" in response.content.decode()


def test_ops_sees_ops_exceptions_and_admin_sees_every_team(client_as):
    ops = DeskExceptionFactory()
    finance = DeskExceptionFactory(kind="tax_variance", subject="000000009", team="finance")
    assert _ids(client_as("ops").get(QUEUE)) == {ops.pk}
    assert _ids(client_as("admin").get(QUEUE)) == {ops.pk, finance.pk}


@pytest.mark.parametrize("who", ["finance", "cx", "outsider"])
def test_other_roles_cannot_open_the_queue(client_as, who):
    assert client_as(who).get(QUEUE).status_code == 403


def test_the_queue_opens_on_what_needs_work(client_as):
    working = [DeskExceptionFactory(status=s) for s in ("open", "in_progress", "regressed")]
    DeskExceptionFactory(status="resolved")
    DeskExceptionFactory(status="ignored")
    client = client_as("ops")
    assert _ids(client.get(QUEUE)) == {e.pk for e in working}
    assert len(_ids(client.get(QUEUE + "?status=all"))) == 5


def test_filters(client_as, personas):
    me = personas["ops"]
    now = timezone.now()
    mine = DeskExceptionFactory(assignee=me, subject="MH01-XS-Black")
    carrier = DeskExceptionFactory(
        kind="carrier_unmapped", subject="tablerate_bestway", sku="", system="integration"
    )
    old_overdue = DeskExceptionFactory(
        subject="24-MB01", first_seen_at=now - timedelta(days=4), sla_due_at=now - timedelta(days=3)
    )
    on_order = DeskExceptionFactory(
        kind="order_post_failed", subject="000000042", sku="", order_increment_id="000000042"
    )
    client = client_as("ops")
    assert _ids(client.get(QUEUE + "?kind=carrier_unmapped")) == {carrier.pk}
    assert _ids(client.get(QUEUE + "?assignee=me")) == {mine.pk}
    assert mine.pk not in _ids(client.get(QUEUE + "?assignee=none"))
    assert _ids(client.get(QUEUE + "?sla=breached")) == {old_overdue.pk}
    assert _ids(client.get(QUEUE + "?age=gt3d")) == {old_overdue.pk}
    assert old_overdue.pk not in _ids(client.get(QUEUE + "?age=24h"))
    assert _ids(client.get(QUEUE + "?system=integration")) == {carrier.pk}
    assert _ids(client.get(QUEUE + "?sku=mh01")) == {mine.pk}
    assert _ids(client.get(QUEUE + "?order=%23000000042")) == {on_order.pk}
    assert _ids(client.get(QUEUE + "?status=resolved")) == set()


def test_the_overdue_count_stops_at_its_cap(client_as, monkeypatch):
    monkeypatch.setattr("exceptions_app.selectors.OVERDUE_CAP", 2)
    DeskExceptionFactory.create_batch(3, sla_due_at=timezone.now() - timedelta(hours=1))
    response = client_as("ops").get(QUEUE)
    assert response.context["counts"].overdue == 2
    assert 'data-testid="count-overdue">Past SLA <span class="badge text-bg-danger">2+' in (
        response.content.decode()
    )


def test_counts_per_kind_and_status_are_shown(client_as):
    DeskExceptionFactory.create_batch(2)
    DeskExceptionFactory(kind="stock_drift", subject="24-MB01", status="in_progress")
    counts = client_as("ops").get(QUEUE).context["counts"]
    assert ("sku_unknown", "SKU unknown to the ERP", 2) in counts.by_kind
    assert dict((s, n) for s, _, n in counts.by_status) == {"open": 2, "in_progress": 1}


def test_htmx_filtering_returns_only_the_queue_fragment(client_as):
    DeskExceptionFactory()
    response = client_as("ops").get(
        QUEUE + "?kind=sku_unknown", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="queue"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'id="bulk-form"' in html
    assert 'hx-push-url="true"' in client_as("ops").get(QUEUE).content.decode()


def test_sorting_by_severity_puts_critical_first(client_as):
    low = DeskExceptionFactory(severity="low")
    critical = DeskExceptionFactory(severity="critical")
    rows = client_as("ops").get(QUEUE + "?sort=-severity").context["table"].paginated_rows
    assert [r.record.pk for r in rows] == [critical.pk, low.pk]


def test_paging_never_counts_the_rows(client_as, django_assert_max_num_queries):
    DeskExceptionFactory.create_batch(30)
    client = client_as("ops")
    page2 = client.get(QUEUE + "?per_page=25&page=2")
    assert len(list(page2.context["table"].paginated_rows)) == 5


@pytest.mark.parametrize("per_page", [25, 100])
def test_queue_query_count_does_not_grow_with_page_size(
    client_as, per_page, django_assert_max_num_queries
):
    user = UserFactory(username="omar", roles=["ops"])
    for n in range(per_page + 5):
        DeskExceptionFactory(assignee=user if n % 2 else None, subject=f"SKU-{n}")
    client = client_as("ops")
    client.get(QUEUE)  # warm the session
    # session, user, roles, assignable users, one page of rows, three counts, session save.
    with django_assert_max_num_queries(11):
        response = client.get(f"{QUEUE}?per_page={per_page}&sort=assignee")
    assert len(list(response.context["table"].paginated_rows)) == per_page


def test_bulk_assign_and_start(client_as, personas):
    rows = DeskExceptionFactory.create_batch(3)
    client = client_as("ops")
    response = client.post(
        QUEUE,
        {"action": "assign", "ids": [r.pk for r in rows], "assignee": personas["ops"].pk},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="queue",
    )
    assert response.status_code == 200
    assert [o.ok for o in response.context["outcomes"]] == [True, True, True]
    assert set(DeskException.objects.values_list("assignee", flat=True)) == {personas["ops"].pk}
    client.post(QUEUE, {"action": "start", "ids": [r.pk for r in rows]})
    assert set(DeskException.objects.values_list("status", flat=True)) == {"in_progress"}


def test_bulk_resolve_reports_partial_failure_row_by_row(client_as):
    open_one = DeskExceptionFactory()
    already = DeskExceptionFactory(status="resolved")
    foreign = DeskExceptionFactory(kind="tax_variance", subject="000000001", team="finance")
    response = client_as("ops").post(
        QUEUE,
        {
            "action": "resolve",
            "resolution": "fixed",
            "note": "mapped in bulk",
            "ids": [open_one.pk, already.pk, foreign.pk, 999999],
        },
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="queue",
    )
    outcomes = {o.exception_id: o for o in response.context["outcomes"]}
    assert outcomes[open_one.pk].ok
    assert not outcomes[already.pk].ok and "Cannot resolve" in outcomes[already.pk].detail
    assert not outcomes[foreign.pk].ok and "Finance team" in outcomes[foreign.pk].detail
    assert outcomes[999999].detail == "No such exception."
    html = response.content.decode()
    assert 'data-testid="bulk-report"' in html and "Cannot resolve" in html
    foreign.refresh_from_db()
    assert foreign.status == "open"


def test_bulk_ignore_needs_a_reason(client_as):
    row = DeskExceptionFactory()
    response = client_as("ops").post(
        QUEUE, {"action": "ignore", "ids": [row.pk]}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="queue"
    )
    assert "required for the audit trail" in response.content.decode()
    row.refresh_from_db()
    assert row.status == "open"


def test_bulk_replay_resolves_what_replays_and_reports_the_rest(client_as):
    register_replayer("sku_unknown", lambda e: ReplayOutcome(e.subject != "BAD", "replayed"))
    good = DeskExceptionFactory(subject="GOOD")
    bad = DeskExceptionFactory(subject="BAD")
    no_replayer = DeskExceptionFactory(kind="stock_drift", subject="24-MB01")
    response = client_as("ops").post(
        QUEUE, {"action": "replay", "ids": [good.pk, bad.pk, no_replayer.pk]}, follow=True
    )
    text = response.content.decode()
    assert "no flow has registered" in text
    statuses = dict(DeskException.objects.values_list("pk", "status"))
    assert statuses == {good.pk: "resolved", bad.pk: "open", no_replayer.pk: "open"}


@pytest.mark.parametrize("who", ["finance", "cx"])
def test_finance_and_cx_cannot_run_bulk_actions(client_as, who):
    row = DeskExceptionFactory()
    response = client_as(who).post(QUEUE, {"action": "start", "ids": [row.pk]})
    assert response.status_code == 403
    row.refresh_from_db()
    assert row.status == "open"


def test_bulk_actions_are_csrf_protected(personas):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(personas["ops"])
    row = DeskExceptionFactory()
    assert client.post(QUEUE, {"action": "start", "ids": [row.pk]}).status_code == 403
    row.refresh_from_db()
    assert row.status == "open"


def test_row_links_open_the_detail_page(client_as):
    row = DeskExceptionFactory()
    html = client_as("ops").get(QUEUE).content.decode()
    assert reverse("ops:exception_detail", args=[row.pk]) in html
