"""CX acts from the order page on the kinds it owns (an invalid address: one click to its fix;
a status drift: Tell Magento now) and comments on any exception of the order; it cannot act on
another team's kind, and the role table says so for every kind."""

import re

import pytest
from django.urls import reverse

from exceptions_app import replay
from exceptions_app.models import DeskException, ExceptionKind, ExceptionStatus, Team
from exceptions_app.replay import ReplayOutcome
from exceptions_app.services import exception_raise
from tests.cx.builders import make_order

pytestmark = pytest.mark.django_db


def detail(number: str) -> str:
    return reverse("cx:order_detail", args=[number])


def comment_url(number: str, pk: int) -> str:
    return reverse("cx:exception_comment", args=[number, pk])


def tell_url(number: str, pk: int) -> str:
    return reverse("cx:exception_tell_magento", args=[number, pk])


def raise_on(order, kind: str, **kwargs) -> DeskException:
    return exception_raise(
        kind=kind,
        subject=kwargs.pop("subject", order.increment_id),
        message=f"{kind} on {order.increment_id}",
        system="integration",
        order_increment_id=order.increment_id,
        **kwargs,
    )


@pytest.fixture
def no_drift_replayer(monkeypatch):
    monkeypatch.delitem(replay._REPLAYERS, ExceptionKind.STATUS_DRIFT, raising=False)


@pytest.fixture
def drift_replayer(monkeypatch):
    calls = []

    def tell(exception):
        calls.append(exception.pk)
        return ReplayOutcome(ok=True, detail="Magento shipment 88 created with its track.")

    monkeypatch.setitem(replay._REPLAYERS, ExceptionKind.STATUS_DRIFT, tell)
    return calls


def test_cx_comments_on_an_ops_exception_of_its_customers_order(client_as, db):
    order = make_order("000000501")
    failed = raise_on(order, ExceptionKind.ORDER_POST_FAILED)
    assert failed.team == Team.OPS
    client = client_as("cx")
    response = client.post(
        comment_url("000000501", failed.pk),
        {"note": "Customer says the parcel is a birthday present <b>urgent</b>."},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    entry = failed.timeline.get(verb="commented")
    assert entry.actor.username == "cx-persona"
    body = response.content.decode()
    assert "Comment added to exception" in body
    assert "birthday present &lt;b&gt;urgent&lt;/b&gt;" in body
    # Commenting is not working it: the exception stays with ops, untouched.
    failed.refresh_from_db()
    assert failed.status == ExceptionStatus.OPEN and failed.assignee is None
    assert client.get(reverse("ops:exception_detail", args=[failed.pk])).status_code == 403


def test_every_exception_of_the_order_has_a_comment_box(client_as, db):
    order = make_order("000000502")
    exceptions = [
        raise_on(order, ExceptionKind.ORDER_POST_FAILED),
        raise_on(order, ExceptionKind.TAX_VARIANCE),
        raise_on(order, ExceptionKind.ADDRESS_INVALID),
    ]
    body = client_as("cx").get(detail("000000502")).content.decode()
    for exception in exceptions:
        assert f'action="{comment_url("000000502", exception.pk)}"' in body


def test_a_comment_on_an_exception_of_another_order_is_refused(client_as, db):
    make_order("000000503")
    other = raise_on(make_order("000000504"), ExceptionKind.ORDER_POST_FAILED)
    response = client_as("cx").post(comment_url("000000503", other.pk), {"note": "Hello"})
    assert response.status_code == 404
    assert not other.timeline.filter(verb="commented").exists()


def test_an_empty_comment_is_refused_with_a_reason(client_as, db):
    order = make_order("000000505")
    exception = raise_on(order, ExceptionKind.ADDRESS_INVALID)
    response = client_as("cx").post(
        comment_url("000000505", exception.pk), {"note": "   "}, HTTP_HX_REQUEST="true"
    )
    assert "A comment cannot be empty." in response.content.decode()
    assert not exception.timeline.filter(verb="commented").exists()


def test_the_address_fix_is_one_click_from_the_order_page(client_as, db):
    order = make_order("000000506")
    exception = raise_on(order, ExceptionKind.ADDRESS_INVALID, evidence={"field": "postcode"})
    client = client_as("cx")
    body = client.get(detail("000000506")).content.decode()
    link = re.search(r'href="([^"]+)" data-testid="fix-address"', body).group(1)
    assert link == reverse("ops:exception_detail", args=[exception.pk])
    fix_page = client.get(link)
    assert fix_page.status_code == 200
    assert 'data-testid="address-form"' in fix_page.content.decode()


def test_tell_magento_is_hidden_until_a_replayer_is_registered(client_as, db, no_drift_replayer):
    order = make_order("000000507")
    drift = raise_on(order, ExceptionKind.STATUS_DRIFT)
    client = client_as("cx")
    assert 'data-testid="tell-magento"' not in client.get(detail("000000507")).content.decode()
    response = client.post(tell_url("000000507", drift.pk), HTTP_HX_REQUEST="true")
    assert "cannot be replayed yet" in response.content.decode()
    drift.refresh_from_db()
    assert drift.status == ExceptionStatus.OPEN


def test_tell_magento_replays_the_status_drift(client_as, db, drift_replayer):
    order = make_order("000000508")
    drift = raise_on(order, ExceptionKind.STATUS_DRIFT)
    client = client_as("cx")
    body = client.get(detail("000000508")).content.decode()
    assert f'hx-post="{tell_url("000000508", drift.pk)}"' in body
    response = client.post(tell_url("000000508", drift.pk), HTTP_HX_REQUEST="true")
    assert "Magento has been told: Magento shipment 88 created" in response.content.decode()
    assert drift_replayer == [drift.pk]
    drift.refresh_from_db()
    assert drift.status == ExceptionStatus.RESOLVED
    assert drift.timeline.filter(verb="replayed", actor__username="cx-persona").exists()


def test_a_failed_tell_magento_says_why_and_keeps_the_exception_open(client_as, db, monkeypatch):
    monkeypatch.setitem(
        replay._REPLAYERS,
        ExceptionKind.STATUS_DRIFT,
        lambda exception: ReplayOutcome(ok=False, detail="Magento answered 503."),
    )
    order = make_order("000000509")
    drift = raise_on(order, ExceptionKind.STATUS_DRIFT)
    response = client_as("cx").post(tell_url("000000509", drift.pk))
    assert response.status_code == 302
    page = client_as("cx").get(response["Location"]).content.decode()
    assert "Magento was not told: Magento answered 503." in page
    drift.refresh_from_db()
    assert drift.status == ExceptionStatus.OPEN


def test_tell_magento_applies_to_status_drifts_only(client_as, db, drift_replayer):
    order = make_order("000000510")
    address = raise_on(order, ExceptionKind.ADDRESS_INVALID)
    assert client_as("cx").post(tell_url("000000510", address.pk)).status_code == 404
    assert drift_replayer == []


def test_ops_see_the_drift_but_may_not_tell_magento(client_as, db, drift_replayer):
    order = make_order("000000511")
    drift = raise_on(order, ExceptionKind.STATUS_DRIFT)
    client = client_as("ops")
    assert 'data-testid="tell-magento"' not in client.get(detail("000000511")).content.decode()
    assert client.post(tell_url("000000511", drift.pk)).status_code == 403
    assert drift_replayer == []


# Every kind, whoever owns it: CX works it only when it is CX's (DESIGN §4), comments on all.
@pytest.mark.parametrize("kind", ExceptionKind.values)
def test_cx_works_only_its_own_kinds_and_comments_on_every_kind(client_as, db, kind):
    order = make_order("000000520")
    exception = raise_on(order, kind)
    client = client_as("cx")
    owns = exception.team == Team.CX
    start = client.post(reverse("ops:exception_action", args=[exception.pk, "start"]))
    assert start.status_code == (302 if owns else 403), (kind, exception.team)
    exception.refresh_from_db()
    assert (exception.status == ExceptionStatus.IN_PROGRESS) == owns
    resolve = client.post(
        reverse("ops:exception_action", args=[exception.pk, "resolve"]),
        {"resolution": "fixed", "note": "Done."},
    )
    assert resolve.status_code == (302 if owns else 403)
    comment = client.post(comment_url("000000520", exception.pk), {"note": "Customer rang."})
    assert comment.status_code == 302
    assert exception.timeline.filter(verb="commented").count() == 1


def test_cx_owns_exactly_the_address_and_status_drift_kinds(db):
    order = make_order("000000530")
    owned = {kind for kind in ExceptionKind.values if raise_on(order, kind).team == Team.CX}
    assert owned == {ExceptionKind.ADDRESS_INVALID, ExceptionKind.STATUS_DRIFT}
