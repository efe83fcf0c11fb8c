"""Exceptions: one record per drift between Magento, the integration and the ERP.

The lifecycle (which status may follow which) lives in `exceptions_app.workflow`; the writes
live in `exceptions_app.services`. Models only carry small derived behaviour.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

MONEY = {"max_digits": 20, "decimal_places": 4}
QTY = {"max_digits": 14, "decimal_places": 4}


class System(models.TextChoices):
    """Where a drift sits: the screens group exceptions and failed runs by it."""

    MAGENTO = "magento", "Magento"
    INTEGRATION = "integration", "Integration layer"
    ERP = "erp", "ERP"
    PAYMENT = "payment", "Payment provider"


class ExceptionKind(models.TextChoices):
    SKU_UNKNOWN = "sku_unknown", "SKU unknown to the ERP"
    SKU_INACTIVE = "sku_inactive", "SKU inactive in the ERP"
    CARRIER_UNMAPPED = "carrier_unmapped", "Shipping method not mapped"
    ADDRESS_INVALID = "address_invalid", "Address breaks warehouse rules"
    ORDER_POST_FAILED = "order_post_failed", "ERP rejected the order"
    ORDER_STUCK = "order_stuck", "Paid order stuck"
    STATUS_DRIFT = "status_drift", "Status differs between systems"
    STOCK_DRIFT = "stock_drift", "Stock differs between systems"
    STOCK_PUSH_FAILED = "stock_push_failed", "Stock update failed"
    TAX_VARIANCE = "tax_variance", "Tax differs between systems"
    TOTAL_VARIANCE = "total_variance", "Total differs between systems"
    SETTLEMENT_MISMATCH = "settlement_mismatch", "Settlement missing or different"
    CANCEL_AFTER_DISPATCH = "cancel_after_dispatch", "Cancelled after the warehouse picked it"
    EDIT_AFTER_DISPATCH = "edit_after_dispatch", "Edited after the warehouse picked it"
    HOLD_AFTER_POSTING = "hold_after_posting", "Put on hold after it reached the ERP"
    REFUND_POST_FAILED = "refund_post_failed", "ERP refused a refund's credit note"


class ExceptionStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    REGRESSED = "regressed", "Regressed"
    RESOLVED = "resolved", "Resolved"
    IGNORED = "ignored", "Ignored"


# Statuses in which an exception is still being worked: the queue's default view, the
# statuses escalation looks at.
WORKING_STATUSES: tuple[str, ...] = (
    ExceptionStatus.OPEN,
    ExceptionStatus.IN_PROGRESS,
    ExceptionStatus.REGRESSED,
)
# Statuses in which a record still "owns" its fingerprint: a new occurrence bumps it rather
# than creating a second record. Ignored counts, so an ignored cause keeps counting quietly.
LIVE_STATUSES: tuple[str, ...] = (*WORKING_STATUSES, ExceptionStatus.IGNORED)
CLOSED_STATUSES: tuple[str, ...] = (ExceptionStatus.RESOLVED, ExceptionStatus.IGNORED)


class SubStatus(models.TextChoices):
    NONE = "", "—"
    NEW = "new", "New"
    RECURRING = "recurring", "Seen again"
    REPLAY_FAILED = "replay_failed", "Replay failed"
    IGNORED_UNTIL = "ignored_until", "Ignored until a date"
    IGNORED_FOREVER = "ignored_forever", "Ignored"


class Resolution(models.TextChoices):
    NONE = "", "—"
    FIXED = "fixed", "Fixed"
    REPLAYED = "replayed", "Replayed successfully"
    AUTO = "auto_resolved", "Cause gone (seen by a later check)"
    ACCEPTED = "accepted", "Accepted as is"
    ADJUSTED = "adjusted", "Adjusted"
    DUPLICATE = "duplicate", "Duplicate"
    NOT_A_PROBLEM = "not_a_problem", "Not a problem"


# Resolutions a person may pick; the others are written by the desk itself.
MANUAL_RESOLUTIONS: tuple[str, ...] = (
    Resolution.FIXED,
    Resolution.ACCEPTED,
    Resolution.ADJUSTED,
    Resolution.DUPLICATE,
    Resolution.NOT_A_PROBLEM,
)


class Team(models.TextChoices):
    """Owning teams; each is the Django group of the same name."""

    OPS = "ops", "Ops"
    FINANCE = "finance", "Finance"
    CX = "cx", "Customer service"


class Severity(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


SEVERITY_RANK: dict[str, int] = {"low": 0, "normal": 1, "high": 2, "critical": 3}


class Blocks(models.TextChoices):
    NOTHING = "", "Nothing (information)"
    ORDER = "order", "The order reaching the ERP"
    SHIPMENT = "shipment", "The shipment update to Magento"
    STOCK = "stock", "Stock updates to Magento"
    PERIOD_CLOSE = "period_close", "Closing the finance period"


class RoutingRule(models.Model):
    """Who owns an exception kind, how fast it must be handled and how bad it is."""

    kind = models.CharField(max_length=32, choices=ExceptionKind.choices, unique=True)
    team = models.CharField(max_length=16, choices=Team.choices)
    sla_minutes = models.PositiveIntegerField(
        help_text="Minutes from first seen (or regression) before it is escalated"
    )
    severity = models.CharField(max_length=16, choices=Severity.choices)
    blocks = models.CharField(max_length=16, choices=Blocks.choices, blank=True)
    notify_on_raise = models.BooleanField(
        default=True, help_text="Email the team when a new exception of this kind blocks work"
    )

    class Meta:
        ordering = ["kind"]

    def __str__(self) -> str:
        return f"{self.kind} → {self.team}"


class TeamContact(models.Model):
    """A team's lead (told on escalation) and optional shared mailbox."""

    team = models.CharField(max_length=16, choices=Team.choices, unique=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    mailbox = models.EmailField(blank=True, help_text="Also sent every team email, if set")

    def __str__(self) -> str:
        return self.get_team_display()


class DeskException(models.Model):
    """One drift, named down to the order, SKU and field, owned by a team."""

    kind = models.CharField(max_length=32, choices=ExceptionKind.choices)
    fingerprint = models.CharField(max_length=400, db_index=True)
    subject = models.CharField(max_length=350)
    # Subject references: whichever apply to the kind. The order is named by its Magento
    # number, not a foreign key: the core knows no flow's tables.
    order_increment_id = models.CharField(max_length=50, blank=True, db_index=True)
    sku = models.CharField(max_length=255, blank=True, db_index=True)
    erp_document = models.CharField(max_length=128, blank=True)
    period = models.CharField(max_length=16, blank=True, help_text="e.g. 2025-03")
    system = models.CharField(max_length=16, choices=System.choices)
    team = models.CharField(max_length=16, choices=Team.choices)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_exceptions",
    )
    status = models.CharField(
        max_length=16, choices=ExceptionStatus.choices, default=ExceptionStatus.OPEN
    )
    sub_status = models.CharField(
        max_length=16, choices=SubStatus.choices, blank=True, default=SubStatus.NEW
    )
    resolution = models.CharField(max_length=16, choices=Resolution.choices, blank=True)
    severity = models.CharField(max_length=16, choices=Severity.choices)
    amount = models.DecimalField(**MONEY, null=True, blank=True, help_text="Money at stake")
    currency = models.CharField(max_length=3, blank=True)
    units = models.DecimalField(**QTY, null=True, blank=True, help_text="Units at stake")
    message = models.TextField(help_text="The error or finding, as the check reported it")
    evidence = models.JSONField(default=dict, blank=True)
    blocks = models.CharField(max_length=16, choices=Blocks.choices, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    occurrences = models.PositiveIntegerField(default=1)
    sla_due_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    ignored_until = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Set while a replay runs outside any transaction (it calls the ERP): a second replay of
    # the same exception waits for it instead of holding a row lock across HTTP calls.
    replay_running_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "exception"
        constraints = [
            models.UniqueConstraint(
                fields=["fingerprint"],
                condition=models.Q(status__in=LIVE_STATUSES),
                name="exception_one_live_per_fingerprint",
            ),
        ]
        indexes = [
            # The queue's default page: a team's working exceptions, soonest SLA first; partial,
            # so the first page is read off the index instead of sorting every open row.
            models.Index(
                fields=["team", "sla_due_at"],
                condition=models.Q(status__in=WORKING_STATUSES),
                name="exc_queue_working_sla",
            ),
            models.Index(fields=["team", "status", "kind"], name="exc_queue_kind"),
            models.Index(fields=["team", "status", "last_seen_at"], name="exc_queue_seen"),
            models.Index(fields=["assignee", "status"], name="exc_assignee"),
            models.Index(fields=["status", "sla_due_at"], name="exc_overdue"),
            models.Index(fields=["status", "closed_at"], name="exc_closed"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.fingerprint}"

    @property
    def is_working(self) -> bool:
        return self.status in WORKING_STATUSES

    @property
    def is_overdue(self) -> bool:
        return self.is_working and self.sla_due_at is not None and self.sla_due_at < timezone.now()

    @property
    def severity_rank(self) -> int:
        return SEVERITY_RANK.get(self.severity, 0)


class TimelineVerb(models.TextChoices):
    RAISED = "raised", "raised"
    SEEN_AGAIN = "seen_again", "seen again"
    REGRESSED = "regressed", "came back"
    REOPENED = "reopened", "reopened after ignore period"
    ASSIGNED = "assigned", "assigned"
    UNASSIGNED = "unassigned", "unassigned"
    STARTED = "started", "started work"
    RESOLVED = "resolved", "resolved"
    AUTO_RESOLVED = "auto_resolved", "auto-resolved"
    IGNORED = "ignored", "ignored"
    COMMENTED = "commented", "commented"
    ESCALATED = "escalated", "escalated"
    REPLAYED = "replayed", "replayed"
    REPLAY_FAILED = "replay_failed", "replay failed"
    FIXED = "fixed", "fixed the cause"
    REPLAY_STARTED = "replay_started", "replay started"


class TimelineEntry(models.Model):
    """One change to an exception: who (or the system), what, when, and from/to status."""

    exception = models.ForeignKey(DeskException, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verb = models.CharField(max_length=16, choices=TimelineVerb.choices)
    note = models.TextField(blank=True)
    from_status = models.CharField(max_length=16, choices=ExceptionStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=ExceptionStatus.choices, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name_plural = "timeline entries"
        indexes = [models.Index(fields=["exception", "at"])]

    def __str__(self) -> str:
        return f"{self.exception_id} {self.verb} @ {self.at:%Y-%m-%d %H:%M}"

    @property
    def actor_label(self) -> str:
        if self.actor is None:
            return "the desk"
        return self.actor.get_full_name() or self.actor.get_username()


class NotificationEvent(models.TextChoices):
    RAISED = "raised", "Raised (blocking)"
    ASSIGNED = "assigned", "Assigned"
    ESCALATED = "escalated", "Escalated"
    DIGEST = "digest", "Daily digest"


class Notification(models.Model):
    """An email (and webhook call) the desk sent or holds for the daily digest."""

    exception = models.ForeignKey(
        DeskException, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    team = models.CharField(max_length=16, choices=Team.choices)
    event = models.CharField(max_length=16, choices=NotificationEvent.choices)
    recipients = models.JSONField(default=list)
    subject = models.CharField(max_length=255)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    held_for_digest = models.BooleanField(default=False)
    sent_at = models.DateTimeField(null=True, blank=True, help_text="When the email went out")
    error = models.TextField(blank=True, help_text="The last delivery error, if any")
    # The outbox: a row is delivered by the delivery flow (and at once after commit, when the
    # broker does its job), retried with backoff, and dead-lettered after its attempts.
    webhook_wanted = models.BooleanField(default=False)
    webhook_sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    dead_at = models.DateTimeField(null=True, blank=True, help_text="Gave up after its attempts")

    class Meta:
        indexes = [
            models.Index(fields=["team", "created_at"]),
            models.Index(fields=["held_for_digest", "sent_at"]),
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(dead_at__isnull=True, held_for_digest=False)
                & (
                    models.Q(sent_at__isnull=True)
                    | models.Q(webhook_wanted=True, webhook_sent_at__isnull=True)
                ),
                name="notification_outbox_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.team} {self.event}: {self.subject}"

    @property
    def delivered(self) -> bool:
        return self.sent_at is not None and (not self.webhook_wanted or bool(self.webhook_sent_at))
