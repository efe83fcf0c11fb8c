"""Replay: redo the work an exception blocked, through the replayer its flow registered.

The replayer calls other systems (the ERP, Magento), so it runs outside any transaction and
holds no row lock: the exception is marked as replaying and committed first, the replayer runs,
and its result is recorded in a second short transaction. A second replay of the same exception
while the first still runs is refused, not queued behind a lock.
"""

from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from exceptions_app.models import (
    WORKING_STATUSES,
    DeskException,
    ExceptionStatus,
    Resolution,
    SubStatus,
    TimelineVerb,
)
from exceptions_app.replay import ReplayNotAvailable, ReplayOutcome, has_replayer, replay
from exceptions_app.services.records import authorize, locked, move, timeline_write
from exceptions_app.workflow import Action, transition_check

# Longer than any replay should take; a worker killed mid-replay frees the exception after it.
REPLAY_LEASE = timedelta(minutes=10)


class ReplayRunning(ValidationError):
    """Another replay of the same exception has not finished yet."""


@transaction.atomic
def _replay_begin(exception: DeskException, actor: AbstractBaseUser | None) -> DeskException:
    exception = locked(exception)
    authorize(actor, exception, Action.REPLAY)
    transition_check(Action.REPLAY, exception.status)
    if not has_replayer(exception.kind):
        raise ReplayNotAvailable(
            f"{exception.get_kind_display()} cannot be replayed yet: no flow has registered "
            "a replay for this kind."
        )
    now = timezone.now()
    if exception.replay_running_until and exception.replay_running_until > now:
        raise ReplayRunning(
            "A replay of this exception is already running; its result will appear on the timeline."
        )
    exception.replay_running_until = now + REPLAY_LEASE
    exception.save(update_fields=["replay_running_until"])
    timeline_write(exception, verb=TimelineVerb.REPLAY_STARTED, actor=actor)
    return exception


@transaction.atomic
def _replay_record(
    exception: DeskException,
    *,
    actor: AbstractBaseUser | None,
    outcome: ReplayOutcome,
    started: timezone.datetime,
    resolution: str,
) -> None:
    exception = locked(exception)
    exception.replay_running_until = None
    exception.save(update_fields=["replay_running_until"])
    if not outcome.ok:
        if exception.status in WORKING_STATUSES:
            exception.sub_status = SubStatus.REPLAY_FAILED
            exception.save(update_fields=["sub_status"])
        timeline_write(exception, verb=TimelineVerb.REPLAY_FAILED, actor=actor, note=outcome.detail)
        return
    if exception.status in WORKING_STATUSES:
        move(
            exception,
            action=Action.REPLAY,
            verb=TimelineVerb.REPLAYED,
            actor=actor,
            note=outcome.detail,
            resolution=resolution,
            sub_status=SubStatus.NONE,
        )
        return
    closed_by_this_replay = (
        exception.status == ExceptionStatus.RESOLVED
        and exception.resolution == Resolution.AUTO
        and exception.closed_at is not None
        and exception.closed_at >= started
    )
    if closed_by_this_replay and actor is not None:
        # The flow's own check closed it while the replay ran: the person's replay (or fix)
        # is what made the cause go away, so the record says so, not "seen by a later check".
        exception.resolution = resolution
        exception.save(update_fields=["resolution"])
    timeline_write(exception, verb=TimelineVerb.REPLAYED, actor=actor, note=outcome.detail)


def exception_replay(
    *,
    exception: DeskException,
    actor: AbstractBaseUser | None,
    resolution: str = Resolution.REPLAYED,
) -> ReplayOutcome:
    """Redo the blocked work through the kind's replayer; resolve only if it succeeds.

    `resolution` is what a successful replay records: "replayed", or "fixed" when the replay
    follows the person's fix of this very exception.
    """
    started = timezone.now()
    exception = _replay_begin(exception, actor)
    try:
        outcome = replay(exception)
    except BaseException:
        # Interrupted (a shutdown): free the exception at once rather than at lease expiry.
        DeskException.objects.filter(pk=exception.pk).update(replay_running_until=None)
        raise
    _replay_record(exception, actor=actor, outcome=outcome, started=started, resolution=resolution)
    return outcome
