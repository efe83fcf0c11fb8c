"""Mapping tables round-trip as CSV; a row naming an unknown ERP item is refused, not saved."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from integration.models import CarrierMapping, ErpItem, SkuMapping

pytestmark = pytest.mark.django_db


def test_carriers_import_and_export(tmp_path):
    source = tmp_path / "carriers.csv"
    source.write_text("magento_method,courier,service,erp_carrier_id\n"
                      "tablerate_bestway,Royal Mail,Tracked 48,RM-TPS48\n")  # fmt: skip
    call_command("mappings", "import", "carriers", str(source))
    call_command("mappings", "import", "carriers", str(source))
    assert CarrierMapping.objects.get().erp_carrier_id == "RM-TPS48"
    out = tmp_path / "out.csv"
    call_command("mappings", "export", "carriers", str(out))
    assert "tablerate_bestway,Royal Mail,Tracked 48,RM-TPS48" in out.read_text()


def test_sku_rows_for_unknown_items_are_refused(tmp_path):
    ErpItem.objects.create(code="LU-MB01", active=True)
    source = tmp_path / "skus.csv"
    source.write_text("magento_sku,erp_item_code\n24-MB01,LU-MB01\n24-MB02,NOPE\n")
    with pytest.raises(CommandError, match="1 row"):
        call_command("mappings", "import", "skus", str(source))
    assert list(SkuMapping.objects.values_list("magento_sku", "erp_item_code")) == [
        ("24-MB01", "LU-MB01")
    ]
