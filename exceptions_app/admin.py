"""Admin: routing rules, team contacts, exceptions (read mostly), and the two mappings ops
keeps (SKU → ERP item, shipping method → courier) with CSV import/export.

The mapping models live in integration/; they are registered here, beside the screens that
fix them in place, so their import/export and the routing rules are administered together.
"""

from django.contrib import admin
from import_export import fields, resources
from import_export.admin import ImportExportModelAdmin

from exceptions_app.models import (
    DeskException,
    Notification,
    RoutingRule,
    TeamContact,
    TimelineEntry,
)
from integration.models import CarrierMapping, ErpItem, SkuMapping


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
    list_display = ("created_at", "team", "event", "subject", "held_for_digest", "sent_at", "error")
    list_filter = ("team", "event", "held_for_digest")
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


class SkuMappingResource(resources.ModelResource):
    """CSV columns: magento_sku, erp_item_code, note. Rows are matched by magento_sku."""

    erp_item_code = fields.Field(attribute="erp_item_code", column_name="erp_item_code")

    class Meta:
        model = SkuMapping
        import_id_fields = ("magento_sku",)
        fields = ("magento_sku", "erp_item_code", "note")
        skip_unchanged = True
        report_skipped = True

    def before_import_row(self, row, **kwargs):
        code = (row.get("erp_item_code") or "").strip()
        if not ErpItem.objects.filter(code=code, active=True).exists():
            raise ValueError(f"ERP item {code!r} does not exist or is inactive")


class CarrierMappingResource(resources.ModelResource):
    """CSV columns: magento_method, courier, service, erp_carrier_id, note."""

    class Meta:
        model = CarrierMapping
        import_id_fields = ("magento_method",)
        fields = ("magento_method", "courier", "service", "erp_carrier_id", "note")
        skip_unchanged = True
        report_skipped = True


@admin.register(SkuMapping)
class SkuMappingAdmin(ImportExportModelAdmin):
    resource_classes = (SkuMappingResource,)
    list_display = ("magento_sku", "erp_item_code", "note", "created_by", "created_at")
    search_fields = ("magento_sku", "erp_item_code")


@admin.register(CarrierMapping)
class CarrierMappingAdmin(ImportExportModelAdmin):
    resource_classes = (CarrierMappingResource,)
    list_display = ("magento_method", "courier", "service", "erp_carrier_id", "created_at")
    search_fields = ("magento_method", "courier", "service")
