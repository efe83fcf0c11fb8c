"""Admin: routing rules, team contacts, and exceptions and notifications (read only)."""

from django.contrib import admin

from exceptions_app.models import (
    DeskException,
    Notification,
    RoutingRule,
    TeamContact,
    TimelineEntry,
)


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ("kind", "team", "sla_minutes", "severity", "blocks", "notify_on_raise")
    list_editable = ("team", "sla_minutes", "severity", "blocks", "notify_on_raise")
    list_filter = ("team", "severity")


@admin.register(TeamContact)
class TeamContactAdmin(admin.ModelAdmin):
    list_display = ("team", "lead", "mailbox")
    raw_id_fields = ("lead",)


class TimelineInline(admin.TabularInline):
    model = TimelineEntry
    extra = 0
    can_delete = False
    fields = ("at", "actor", "verb", "from_status", "to_status", "note")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(DeskException)
class DeskExceptionAdmin(admin.ModelAdmin):
    """Read-only in admin: every change goes through the services (and the timeline)."""

    list_display = (
        "id",
        "kind",
        "subject",
        "team",
        "status",
        "severity",
        "assignee",
        "last_seen_at",
    )
    list_filter = ("status", "team", "kind", "severity", "system")
    search_fields = ("fingerprint", "sku", "order_increment_id", "subject")
    list_select_related = ("assignee",)
    show_full_result_count = False
    inlines = (TimelineInline,)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "team",
        "event",
        "subject",
        "sent_at",
        "webhook_sent_at",
        "attempts",
        "dead_at",
        "error",
    )
    list_filter = ("team", "event", "held_for_digest", ("dead_at", admin.EmptyFieldListFilter))
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
