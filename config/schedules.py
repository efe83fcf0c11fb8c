"""Every recurring task the desk runs, in one list. `manage.py desk_schedules` (run by
`make run`) creates or updates a django-q2 Schedule row per entry, by name, so running it twice
changes nothing and editing an entry here updates the row.

To add a flow's schedule, append a ScheduleSpec below (names are unique).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    func: str  # dotted path of a task that takes no arguments
    # django-q2 schedule types: "I" every `minutes`, "H" hourly, "D" daily at `at` (local
    # time, HH:MM). Cron needs croniter, which the desk does not install.
    schedule_type: str = "I"
    minutes: int | None = None
    at: str | None = None
    # The cluster that runs it (None: the default cluster; STOCK_CLUSTER: the one named by the
    # Q_STOCK_CLUSTER setting, resolved when the schedules are written).
    cluster: str | None = None


STOCK_CLUSTER = "<Q_STOCK_CLUSTER>"


SCHEDULES: list[ScheduleSpec] = [
    ScheduleSpec(
        name="exceptions: escalate overdue",
        func="exceptions_app.tasks.exceptions_escalate_overdue",
        schedule_type="I",
        minutes=5,
    ),
    # The notification outbox: whatever the broker lost (or a mail server refused) goes out here.
    ScheduleSpec(
        name="exceptions: deliver notifications",
        func="exceptions_app.tasks.notifications_deliver_due",
        schedule_type="I",
        minutes=1,
    ),
    ScheduleSpec(
        name="exceptions: daily digest",
        func="exceptions_app.tasks.notifications_send_digests",
        schedule_type="D",
        at="07:00",
    ),
    ScheduleSpec(
        name="exceptions: purge past retention",
        func="exceptions_app.tasks.exceptions_purge",
        schedule_type="D",
        at="03:30",
    ),
    # Sync flows (integration/tasks.py). Each takes its flow's lease: an overlapping fire
    # records a skipped run. Stock runs on its own cluster so orders never queue behind it.
    ScheduleSpec(name="sync: orders in and out", func="integration.tasks.sync_orders", minutes=1),
    ScheduleSpec(name="sync: shipments back", func="integration.tasks.sync_shipments", minutes=5),
    ScheduleSpec(name="sync: refunds", func="integration.tasks.sync_refunds", minutes=5),
    ScheduleSpec(
        name="sync: stock out",
        func="integration.tasks.sync_stock",
        minutes=5,
        cluster=STOCK_CLUSTER,
    ),
    ScheduleSpec(name="sync: drift checks", func="integration.tasks.sync_checks", minutes=15),
    ScheduleSpec(
        name="sync: finance postings",
        func="integration.tasks.sync_finance",
        schedule_type="D",
        at="02:00",
    ),
]
