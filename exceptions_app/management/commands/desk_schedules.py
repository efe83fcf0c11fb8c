"""Create or update the django-q2 schedules listed in config/schedules.py (idempotent)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule

from config.schedules import SCHEDULES, STOCK_CLUSTER, ScheduleSpec


def _first_run(spec: ScheduleSpec) -> datetime:
    """Now for interval schedules; the next `at` (local time) for daily ones."""
    now = timezone.localtime()
    if spec.schedule_type != Schedule.DAILY or not spec.at:
        return now
    try:
        hour, minute = (int(part) for part in spec.at.split(":"))
    except ValueError as exc:
        raise CommandError(f"{spec.name}: `at` must be HH:MM, got {spec.at!r}") from exc
    first = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return first if first > now else first + timedelta(days=1)


class Command(BaseCommand):
    help = "Create or update every recurring task listed in config/schedules.py."

    def handle(self, *args, **options) -> None:
        names = [spec.name for spec in SCHEDULES]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise CommandError(f"config/schedules.py lists these names twice: {duplicates}")
        valid_types = {code for code, _ in Schedule.TYPE}
        created = updated = 0
        with transaction.atomic():
            for spec in SCHEDULES:
                if spec.schedule_type not in valid_types:
                    raise CommandError(f"{spec.name}: unknown schedule type {spec.schedule_type}")
                if spec.schedule_type == Schedule.CRON:
                    raise CommandError(f"{spec.name}: use a daily schedule with `at` (no croniter)")
                if spec.schedule_type == Schedule.MINUTES and not spec.minutes:
                    raise CommandError(f"{spec.name}: a minutes schedule needs `minutes`")
                values = {
                    "func": spec.func,
                    "schedule_type": spec.schedule_type,
                    "minutes": spec.minutes,
                    "cluster": settings.Q_STOCK_CLUSTER
                    if spec.cluster == STOCK_CLUSTER
                    else spec.cluster,
                    "repeats": -1,
                }
                schedule = Schedule.objects.filter(name=spec.name).first()
                if schedule is None:
                    Schedule.objects.create(name=spec.name, next_run=_first_run(spec), **values)
                    created += 1
                    continue
                changed = {k: v for k, v in values.items() if getattr(schedule, k) != v}
                if changed:
                    for key, value in changed.items():
                        setattr(schedule, key, value)
                    schedule.next_run = _first_run(spec)
                    schedule.save()
                    updated += 1
        self.stdout.write(
            f"schedules: {created} created, {updated} updated, "
            f"{len(SCHEDULES) - created - updated} unchanged"
        )
