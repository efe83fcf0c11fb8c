"""Admin: the two mappings ops keeps (SKU → ERP item, shipping method → courier service) with
CSV import/export, their audit trail (read only), and the ERP item master as last read.

Every write, including a CSV import row, goes through the mapping services, so the admin
validates exactly as the desk's fix screens do and leaves the same audit row.
"""

from django import forms
from django.contrib import admin
from import_export import resources
from import_export.admin import ImportExportModelAdmin

from integration.models import CarrierMapping, ErpItem, MappingChange, MappingSource, SkuMapping
from integration.services import carrier_mapping_save, erp_item_mappable, sku_mapping_save


class _ServiceSaved(resources.ModelResource):
    """Rows are saved by the mapping service (validation and audit), not by `instance.save()`."""

    def save_instance(self, instance, is_create, row, **kwargs):
        if kwargs.get("dry_run") and not self._is_using_transactions(kwargs):
            return
        self.mapping_save(instance, actor=kwargs.get("user"))

    def mapping_save(self, instance, *, actor) -> None:
        raise NotImplementedError


class SkuMappingResource(_ServiceSaved):
    """CSV columns: magento_sku, erp_item_code, note. Rows are matched by magento_sku."""

    class Meta:
        model = SkuMapping
        import_id_fields = ("magento_sku",)
        fields = ("magento_sku", "erp_item_code", "note")
        skip_unchanged = True
        report_skipped = True

    def mapping_save(self, instance, *, actor) -> None:
        sku_mapping_save(
            magento_sku=instance.magento_sku,
            erp_item_code=instance.erp_item_code,
            actor=actor,
            note=instance.note,
            source=MappingSource.IMPORT,
        )


class CarrierMappingResource(_ServiceSaved):
    """CSV columns: magento_method, courier, service, erp_carrier_id, note."""

    class Meta:
        model = CarrierMapping
        import_id_fields = ("magento_method",)
        fields = ("magento_method", "courier", "service", "erp_carrier_id", "note")
        skip_unchanged = True
        report_skipped = True

    def mapping_save(self, instance, *, actor) -> None:
        carrier_mapping_save(
            magento_method=instance.magento_method,
            courier=instance.courier,
            service=instance.service,
            erp_carrier_id=instance.erp_carrier_id,
            actor=actor,
            note=instance.note,
            source=MappingSource.IMPORT,
        )


class _ServiceSavedAdmin(ImportExportModelAdmin):
    """The change form saves through the mapping service too."""

    def save_model(self, request, obj, form, change) -> None:
        self.resource_classes[0]().mapping_save(obj, actor=request.user)


class SkuMappingForm(forms.ModelForm):
    class Meta:
        model = SkuMapping
        fields = ("magento_sku", "erp_item_code", "note")

    def clean_erp_item_code(self) -> str:
        return erp_item_mappable(self.cleaned_data["erp_item_code"]).code


@admin.register(SkuMapping)
class SkuMappingAdmin(_ServiceSavedAdmin):
    form = SkuMappingForm
    resource_classes = (SkuMappingResource,)
    list_display = ("magento_sku", "erp_item_code", "note", "created_by", "created_at")
    search_fields = ("magento_sku", "erp_item_code")
    fields = ("magento_sku", "erp_item_code", "note")


@admin.register(CarrierMapping)
class CarrierMappingAdmin(_ServiceSavedAdmin):
    resource_classes = (CarrierMappingResource,)
    list_display = ("magento_method", "courier", "service", "erp_carrier_id", "created_at")
    search_fields = ("magento_method", "courier", "service")
    fields = ("magento_method", "courier", "service", "erp_carrier_id", "note")


@admin.register(MappingChange)
class MappingChangeAdmin(admin.ModelAdmin):
    list_display = ("at", "table", "key", "source", "actor", "note")
    list_filter = ("table", "source")
    search_fields = ("key",)
    list_select_related = ("actor",)
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ErpItem)
class ErpItemAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "active", "last_seen_at")
    list_filter = ("active",)
    search_fields = ("code", "name")
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
