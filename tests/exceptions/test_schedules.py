"""`manage.py desk_schedules` creates the recurring tasks once and updates them by name."""

import pytest
from django.core.management import call_command
from django_q.models import Schedule

from config.schedules import SCHEDULES

pytestmark = pytest.mark.django_db


def test_desk_schedules_creates_each_schedule_once_and_updates_changes():
    call_command("desk_schedules")
    call_command("desk_schedules")
    names = list(Schedule.objects.values_list("name", flat=True))
    assert sorted(names) == sorted(spec.name for spec in SCHEDULES)
    escalate = Schedule.objects.get(name="exceptions: escalate overdue")
    assert escalate.func == "exceptions_app.tasks.exceptions_escalate_overdue"
    assert (escalate.schedule_type, escalate.minutes) == ("I", 5)

    Schedule.objects.filter(name="exceptions: escalate overdue").update(minutes=60)
    call_command("desk_schedules")
    assert Schedule.objects.get(name="exceptions: escalate overdue").minutes == 5


def test_every_scheduled_task_exists():
    from importlib import import_module

    for spec in SCHEDULES:
        module, _, name = spec.func.rpartition(".")
        assert callable(getattr(import_module(module), name)), spec.func
