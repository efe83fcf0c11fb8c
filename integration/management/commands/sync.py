"""`python manage.py sync <flow|all> --once`: run sync flows now, for operators, cron and tests."""

from django.core.management.base import BaseCommand, CommandError

from integration.models import RunStatus
from integration.tasks import ORDER, run_flow, run_summary


class Command(BaseCommand):
    help = "Run a sync flow (or all, in order) once, synchronously, and print its run record."

    def add_arguments(self, parser):
        parser.add_argument("flow", choices=[*ORDER, "all"])
        parser.add_argument(
            "--once",
            action="store_true",
            help="Run once and exit (the only mode; `qcluster` runs the flows on schedule).",
        )

    def handle(self, *args, **options):
        if not options["once"]:
            raise CommandError(
                "pass --once to run now; scheduled runs come from `manage.py qcluster` "
                "after `manage.py desk_schedules`"
            )
        names = ORDER if options["flow"] == "all" else (options["flow"],)
        failed = []
        for name in names:
            run = run_flow(name)
            self.stdout.write(run_summary(run))
            if run.status == RunStatus.FAILED:
                failed.append(name)
        if failed:
            raise CommandError(f"failed: {', '.join(failed)} (see the sync runs on /health/)")
