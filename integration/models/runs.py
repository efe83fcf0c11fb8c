"""Sync runs, watermarks, quarantined Magento windows and flow leases."""

from django.db import models
from django.utils import timezone

from exceptions_app.models import System


class Flow(models.TextChoices):
    ORDERS_IN = "orders_in", "Orders in"
    ORDERS_OUT = "orders_out", "Orders out"
    STOCK = "stock", "Stock out"
    SHIPMENTS = "shipments", "Shipments back"
    FINANCE = "finance", "Finance postings"
    CHECKS = "checks", "Drift checks"
    REFUNDS = "refunds", "Refunds (credit notes)"


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIAL = "partial", "Finished with failures"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped (another run held the lock)"


class RunErrorKind(models.TextChoices):
    """How a run went wrong, so the health page can say it in words."""

    NONE = "", "—"
    REFUSED = "refused", "The system answered with an error"
    UNREACHABLE = "unreachable", "The system did not answer"
    CIRCUIT_OPEN = "circuit_open", "Calls refused: circuit breaker open"
    RECORDS = "records", "Some records failed"
    BUG = "bug", "The integration raised an unexpected error"


class SyncRun(models.Model):
    """One run of a flow: what it saw and did, and where a failure sat.

    `failed` counts records the run could not handle (with `error` saying why whenever it is
    non-zero); `found` counts what a drift check found, which is neither held nor failed.
    """

    flow = models.CharField(max_length=16, choices=Flow.choices)
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    seen = models.PositiveIntegerField(default=0)
    posted = models.PositiveIntegerField(default=0)
    held = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    found = models.PositiveIntegerField(default=0, help_text="Drift findings (checks)")
    error = models.TextField(blank=True)
    error_system = models.CharField(max_length=16, choices=System.choices, blank=True)
    error_kind = models.CharField(max_length=16, choices=RunErrorKind.choices, blank=True)
    error_status = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The HTTP status the failing system answered"
    )

    class Meta:
        indexes = [
            models.Index(fields=["flow", "-started_at"]),
            # The health page's 24-hour and hourly figures read a time range across flows.
            models.Index(fields=["started_at"], name="syncrun_started"),
        ]

    def __str__(self) -> str:
        return f"{self.get_flow_display()} {self.started_at:%Y-%m-%d %H:%M} {self.status}"

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class Watermark(models.Model):
    """How far a pull flow has read, so the next run starts there (minus an overlap)."""

    flow = models.CharField(max_length=16, choices=Flow.choices, unique=True)
    value = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.flow} @ {self.value.isoformat()}"


class QuarantineStatus(models.TextChoices):
    OPEN = "open", "Quarantined"
    CLEARED = "cleared", "Read successfully later"


class QuarantinedWindow(models.Model):
    """A Magento time window whose order list keeps failing; skipped until a retry succeeds."""

    flow = models.CharField(max_length=16, choices=Flow.choices)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    status = models.CharField(
        max_length=16, choices=QuarantineStatus.choices, default=QuarantineStatus.OPEN
    )
    attempts = models.PositiveIntegerField(default=1)
    last_error = models.TextField(blank=True)
    first_failed_at = models.DateTimeField(default=timezone.now)
    last_failed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["flow", "window_start", "window_end"], name="quarantine_window_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.flow} {self.window_start:%Y-%m-%d %H:%M}–{self.window_end:%H:%M}"


class FlowLock(models.Model):
    """A lease that lets one run of a flow proceed at a time, across processes and hosts.

    A lease rather than a session lock so a killed worker's lock expires by itself.
    """

    flow = models.CharField(max_length=32, unique=True)
    owner = models.CharField(max_length=64, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.flow} held by {self.owner or 'nobody'}"
