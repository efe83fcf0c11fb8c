"""The transition table: every action allowed where it should be, refused (and harmless)
everywhere else; raise, regression, ignore and auto-resolve."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from exceptions_app import services
from exceptions_app.models import DeskException, ExceptionStatus, TimelineEntry
from exceptions_app.workflow import TRANSITIONS, TransitionNotAllowed
from tests.factories import DeskExceptionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops_user(db):
    return UserFactory(username="olivia", roles=["ops"])


def _run(action: str, exception: DeskException, actor):
    """Call the service behind each table action with valid arguments."""
    if action == "start":
        return services.exception_start(exception=exception, actor=actor)
    if action == "resolve":
        return services.exception_resolve(
            exception=exception, actor=actor, resolution="fixed", note="mapped it"
        )
    if action == "ignore":
        return services.exception_ignore(exception=exception, actor=actor, reason="known issue")
    if action == "assign":
        return services.exception_assign(exception=exception, assignee=actor, actor=actor)
    if action == "unassign":
        return services.exception_unassign(exception=exception, actor=actor)
    if action == "comment":
        return services.exception_comment(exception=exception, actor=actor, note="looking")
    if action == "escalate":
        return services.exception_escalate(exception=exception, actor=actor, reason="urgent")
    raise AssertionError(action)


PERSON_ACTIONS = ["start", "resolve", "ignore", "assign", "unassign", "comment", "escalate"]
CASES = [
    (action, status, status in TRANSITIONS[action].allowed_from)
    for action in PERSON_ACTIONS
    for status in ExceptionStatus.values
]


@pytest.mark.parametrize("action,status,allowed", CASES)
def test_each_action_is_allowed_exactly_where_the_table_says(ops_user, action, status, allowed):
    exception = DeskExceptionFactory(status=status)
    before = TimelineEntry.objects.filter(exception=exception).count()
    if allowed:
        _run(action, exception, ops_user)
        exception.refresh_from_db()
        expected = TRANSITIONS[action].to
        if action == "unassign" and status == ExceptionStatus.IN_PROGRESS:
            expected = ExceptionStatus.OPEN
        assert exception.status == (expected or status)
        assert TimelineEntry.objects.filter(exception=exception).count() == before + 1
        entry = TimelineEntry.objects.filter(exception=exception).latest("id")
        assert entry.actor == ops_user
    else:
        snapshot = DeskException.objects.values().get(pk=exception.pk)
        with pytest.raises(TransitionNotAllowed) as error:
            _run(action, exception, ops_user)
        assert "Cannot" in str(error.value) and "allowed only when" in str(error.value)
        assert DeskException.objects.values().get(pk=exception.pk) == snapshot
        assert TimelineEntry.objects.filter(exception=exception).count() == before


def test_raise_creates_an_open_exception_routed_by_its_kind(raise_sku):
    exception = raise_sku("MH01-XS-Black")
    assert exception.fingerprint == "sku_unknown:MH01-XS-Black"
    assert (exception.status, exception.team, exception.severity) == ("open", "ops", "high")
    assert exception.blocks == "order"
    assert exception.sla_due_at - exception.first_seen_at == timedelta(hours=4)
    assert list(exception.timeline.values_list("verb", flat=True)) == ["raised"]


def test_routing_rule_edits_take_effect(raise_sku):
    from exceptions_app.models import RoutingRule

    RoutingRule.objects.filter(kind="sku_unknown").update(team="cx", sla_minutes=30)
    exception = raise_sku()
    assert exception.team == "cx"
    assert exception.sla_due_at - exception.first_seen_at == timedelta(minutes=30)


def test_raising_the_same_fingerprint_counts_occurrences_on_one_record(raise_sku):
    first = raise_sku("MH01-XS-Black")
    again = raise_sku("MH01-XS-Black")
    assert again.pk == first.pk
    assert again.occurrences == 2
    assert again.sub_status == "recurring"
    assert DeskException.objects.count() == 1
    # Same message: counted, not repeated in the timeline.
    assert again.timeline.count() == 1
    raise_sku("MH01-XS-Black", message="now on order 000000042")
    assert list(again.timeline.values_list("verb", flat=True)) == ["raised", "seen_again"]


def test_a_resolved_exception_comes_back_as_regressed(raise_sku, ops_user):
    exception = raise_sku()
    services.exception_resolve(
        exception=exception, actor=ops_user, resolution="fixed", note="created the item"
    )
    exception.refresh_from_db()
    assert exception.closed_at is not None
    again = raise_sku()
    assert again.pk == exception.pk
    assert again.status == "regressed"
    assert again.resolution == ""
    assert again.closed_at is None
    assert again.escalated_at is None
    assert again.sla_due_at > timezone.now()
    entry = again.timeline.latest("id")
    assert (entry.verb, entry.from_status, entry.to_status) == (
        "regressed",
        "resolved",
        "regressed",
    )


def test_an_ignored_exception_keeps_counting_but_stays_ignored(raise_sku, ops_user):
    exception = raise_sku()
    services.exception_ignore(exception=exception, actor=ops_user, reason="discontinued line")
    again = raise_sku()
    assert again.pk == exception.pk
    assert (again.status, again.occurrences) == ("ignored", 2)


def test_an_ignored_exception_reopens_when_raised_after_its_ignore_date(raise_sku, ops_user):
    exception = raise_sku()
    services.exception_ignore(
        exception=exception,
        actor=ops_user,
        reason="supplier fixes it this week",
        until=timezone.now() + timedelta(days=1),
    )
    DeskException.objects.filter(pk=exception.pk).update(
        ignored_until=timezone.now() - timedelta(minutes=1)
    )
    again = raise_sku()
    assert again.status == "open"
    assert again.ignored_until is None
    assert again.timeline.latest("id").verb == "reopened"


def test_auto_resolve_closes_the_open_exception_and_reports_none_when_nothing_is_open(raise_sku):
    exception = raise_sku("24-MB01")
    resolved = services.exception_auto_resolve(kind="sku_unknown", subject="24-MB01")
    assert resolved.pk == exception.pk
    assert (resolved.status, resolved.resolution) == ("resolved", "auto_resolved")
    assert resolved.timeline.latest("id").actor is None
    assert services.exception_auto_resolve(kind="sku_unknown", subject="24-MB01") is None
    assert services.exception_auto_resolve(kind="sku_unknown", subject="nothing") is None


def test_raise_refuses_bad_input_with_a_clear_error(db):
    with pytest.raises(ValueError, match="unknown exception kind"):
        services.exception_raise(kind="sku_missing", subject="x", message="m", system="erp")
    with pytest.raises(ValueError, match="unknown system"):
        services.exception_raise(kind="sku_unknown", subject="x", message="m", system="sap")
    with pytest.raises(ValueError, match="subject"):
        services.exception_raise(kind="sku_unknown", subject=" ", message="m", system="erp")
    with pytest.raises(TypeError, match="Decimal"):
        services.exception_raise(
            kind="tax_variance", subject="x", message="m", system="erp", amount=0.01
        )
    assert DeskException.objects.count() == 0


def test_resolve_needs_a_manual_resolution_and_a_note(ops_user):
    exception = DeskExceptionFactory()
    with pytest.raises(ValidationError, match="note"):
        services.exception_resolve(
            exception=exception, actor=ops_user, resolution="fixed", note=" "
        )
    with pytest.raises(ValidationError, match="Pick how"):
        services.exception_resolve(
            exception=exception, actor=ops_user, resolution="auto_resolved", note="x"
        )
    exception.refresh_from_db()
    assert exception.status == "open"


def test_ignore_until_must_be_in_the_future(ops_user):
    exception = DeskExceptionFactory()
    with pytest.raises(ValidationError, match="future"):
        services.exception_ignore(
            exception=exception,
            actor=ops_user,
            reason="x",
            until=timezone.now() - timedelta(days=1),
        )


def test_start_assigns_the_exception_to_whoever_starts_it(ops_user):
    exception = services.exception_start(exception=DeskExceptionFactory(), actor=ops_user)
    assert (exception.status, exception.assignee) == ("in_progress", ops_user)


def test_assignee_must_belong_to_the_owning_team(ops_user):
    finance = UserFactory(username="fiona", roles=["finance"])
    exception = DeskExceptionFactory()
    with pytest.raises(ValidationError, match="not in the Ops team"):
        services.exception_assign(exception=exception, assignee=finance, actor=ops_user)


@pytest.mark.parametrize("role", ["finance", "cx", "outsider"])
def test_other_teams_cannot_act_on_an_ops_exception(role):
    user = UserFactory(username=f"{role}-user", roles=[] if role == "outsider" else [role])
    exception = DeskExceptionFactory()
    with pytest.raises(PermissionDenied):
        services.exception_start(exception=exception, actor=user)
    assert exception.timeline.count() == 0


def test_someone_with_no_role_cannot_even_comment():
    user = UserFactory(username="nobody-user", roles=[])
    exception = DeskExceptionFactory()
    with pytest.raises(PermissionDenied):
        services.exception_comment(exception=exception, actor=user, note="hi")
    assert exception.timeline.count() == 0


def test_admins_act_on_any_team_exception():
    admin = UserFactory(username="ada", roles=["admin"])
    exception = DeskExceptionFactory(kind="tax_variance", subject="000000007", team="finance")
    services.exception_comment(exception=exception, actor=admin, note="checking")
    assert exception.timeline.get().actor == admin


def test_escalation_happens_once_per_episode(ops_user):
    exception = DeskExceptionFactory()
    services.exception_escalate(exception=exception, actor=ops_user, reason="customer chasing")
    with pytest.raises(ValidationError, match="Already escalated"):
        services.exception_escalate(exception=exception, actor=ops_user, reason="again")
    assert exception.timeline.filter(verb="escalated").count() == 1


def test_another_team_may_comment_on_an_exception_but_not_work_it():
    from django.core.exceptions import PermissionDenied

    from exceptions_app.services import exception_comment, exception_start
    from tests.factories import DeskExceptionFactory, UserFactory

    cx = UserFactory(username="cara-comments", roles=["cx"])
    exception = DeskExceptionFactory(team="ops")
    exception_comment(exception=exception, actor=cx, note="Customer called: please hurry.")
    entry = exception.timeline.latest("id")
    assert (entry.verb, entry.actor, entry.note) == (
        "commented",
        cx,
        "Customer called: please hurry.",
    )
    with pytest.raises(PermissionDenied):
        exception_start(exception=exception, actor=cx)
