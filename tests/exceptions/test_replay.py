"""Replay: resolves only on success; failures are recorded and keep the exception open."""

import pytest
from django.core.exceptions import PermissionDenied

from exceptions_app import services
from exceptions_app.models import DeskException
from exceptions_app.replay import (
    ReplayNotAvailable,
    ReplayOutcome,
    register_replayer,
    replayer_for,
)
from tests.factories import DeskExceptionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops_user():
    return UserFactory(username="olivia", roles=["ops"])


def test_register_replayer_works_as_a_decorator_and_refuses_unknown_kinds():
    @register_replayer("stock_drift")
    def push(exception):
        return ReplayOutcome(ok=True, detail="pushed")

    assert replayer_for("stock_drift") is push
    with pytest.raises(ValueError, match="unknown exception kind"):
        register_replayer("stock_drfit", push)


def test_a_successful_replay_resolves_the_exception(ops_user):
    calls = []
    register_replayer(
        "sku_unknown", lambda e: calls.append(e.pk) or ReplayOutcome(True, "2 orders posted")
    )
    exception = DeskExceptionFactory()
    outcome = services.exception_replay(exception=exception, actor=ops_user)
    exception.refresh_from_db()
    assert outcome.ok and calls == [exception.pk]
    assert (exception.status, exception.resolution) == ("resolved", "replayed")
    entry = exception.timeline.latest("id")
    assert (entry.verb, entry.note, entry.actor) == ("replayed", "2 orders posted", ops_user)


def test_a_failed_replay_is_recorded_and_keeps_the_exception_open(ops_user):
    register_replayer("sku_unknown", lambda e: ReplayOutcome(False, "ERP says: item missing"))
    exception = DeskExceptionFactory()
    outcome = services.exception_replay(exception=exception, actor=ops_user)
    exception.refresh_from_db()
    assert not outcome.ok
    assert (exception.status, exception.sub_status) == ("open", "replay_failed")
    entry = exception.timeline.latest("id")
    assert (entry.verb, entry.note) == ("replay_failed", "ERP says: item missing")


def test_a_crashing_replayer_is_a_failed_replay_and_its_writes_are_rolled_back(ops_user):
    def crash(exception):
        DeskException.objects.filter(pk=exception.pk).update(message="half-written")
        raise ConnectionError("ERP unreachable")

    register_replayer("sku_unknown", crash)
    exception = DeskExceptionFactory()
    outcome = services.exception_replay(exception=exception, actor=ops_user)
    exception.refresh_from_db()
    assert not outcome.ok and "ERP unreachable" in outcome.detail
    assert exception.status == "open"
    assert exception.message != "half-written"
    assert exception.timeline.latest("id").verb == "replay_failed"


def test_a_replayer_that_auto_resolves_itself_is_not_resolved_twice(ops_user):
    def flow(exception):
        services.exception_auto_resolve(kind=exception.kind, subject=exception.subject)
        return ReplayOutcome(True, "posted")

    register_replayer("sku_unknown", flow)
    exception = DeskExceptionFactory()
    services.exception_replay(exception=exception, actor=ops_user)
    exception.refresh_from_db()
    assert exception.status == "resolved"
    assert list(exception.timeline.values_list("verb", flat=True)) == [
        "replay_started",
        "auto_resolved",
        "replayed",
    ]
    # The person's replay removed the cause: recorded as theirs, not "seen by a later check".
    assert exception.resolution == "replayed"
    assert exception.timeline.latest("id").actor == ops_user


def test_replay_without_a_registered_replayer_says_so(ops_user):
    exception = DeskExceptionFactory()
    with pytest.raises(ReplayNotAvailable, match="no flow has registered"):
        services.exception_replay(exception=exception, actor=ops_user)
    exception.refresh_from_db()
    assert exception.status == "open"


def test_finance_cannot_replay_an_ops_exception():
    register_replayer("sku_unknown", lambda e: ReplayOutcome(True, "ok"))
    finance = UserFactory(username="fiona", roles=["finance"])
    exception = DeskExceptionFactory()
    with pytest.raises(PermissionDenied):
        services.exception_replay(exception=exception, actor=finance)


def test_a_replay_already_running_is_refused_not_queued_behind_a_lock(ops_user):
    from datetime import timedelta

    from django.utils import timezone

    register_replayer("sku_unknown", lambda e: ReplayOutcome(True, "posted"))
    exception = DeskExceptionFactory(replay_running_until=timezone.now() + timedelta(minutes=5))
    with pytest.raises(services.ReplayRunning, match="already running"):
        services.exception_replay(exception=exception, actor=ops_user)
    exception.refresh_from_db()
    assert exception.status == "open"


def test_a_replay_whose_worker_died_can_be_run_again_after_its_lease(ops_user):
    from datetime import timedelta

    from django.utils import timezone

    register_replayer("sku_unknown", lambda e: ReplayOutcome(True, "posted"))
    exception = DeskExceptionFactory(replay_running_until=timezone.now() - timedelta(seconds=1))
    assert services.exception_replay(exception=exception, actor=ops_user).ok
    exception.refresh_from_db()
    assert (exception.status, exception.replay_running_until) == ("resolved", None)
