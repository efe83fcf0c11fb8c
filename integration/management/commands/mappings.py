"""`python manage.py mappings <import|export> <skus|carriers> FILE`: mapping tables as CSV.

Import goes through the same services as the desk's fix-in-place screens, so a row naming an
ERP item that does not exist (or is inactive) is refused with the reason, never saved.
"""

import csv
import sys
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from integration.models import CarrierMapping, MappingSource, SkuMapping
from integration.services import carrier_mapping_save, sku_mapping_save

COLUMNS = {
    "skus": ("magento_sku", "erp_item_code", "note"),
    "carriers": ("magento_method", "courier", "service", "erp_carrier_id", "note"),
}


class Command(BaseCommand):
    help = "Import or export the SKU or carrier mapping table as CSV (FILE '-' is stdin/stdout)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["import", "export"])
        parser.add_argument("table", choices=sorted(COLUMNS))
        parser.add_argument("file")

    def handle(self, *args, action, table, file, **options):
        if action == "export":
            if file == "-":
                self._export(table, sys.stdout)
            else:
                with Path(file).open("w", newline="") as handle:
                    self._export(table, handle)
            return
        if file == "-":
            saved, refused = self._import(table, sys.stdin, file)
        else:
            with Path(file).open(newline="") as handle:
                saved, refused = self._import(table, handle, file)
        self.stdout.write(f"{table}: {saved} saved, {len(refused)} refused")
        for line in refused:
            self.stderr.write(line)
        if refused:
            raise CommandError(f"{len(refused)} row(s) refused")

    def _export(self, table, handle) -> None:
        model = SkuMapping if table == "skus" else CarrierMapping
        writer = csv.writer(handle)
        writer.writerow(COLUMNS[table])
        for row in model.objects.order_by("pk").values_list(*COLUMNS[table]):
            writer.writerow(row)

    def _import(self, table, handle, file) -> tuple[int, list[str]]:
        reader = csv.DictReader(handle)
        missing = set(COLUMNS[table][:2]) - set(reader.fieldnames or [])
        if missing:
            raise CommandError(f"{file}: missing column(s) {sorted(missing)}")
        saved, refused = 0, []
        for number, row in enumerate(reader, start=2):
            try:
                if table == "skus":
                    sku_mapping_save(
                        magento_sku=row["magento_sku"],
                        erp_item_code=row["erp_item_code"],
                        actor=None,
                        note=row.get("note") or "",
                        source=MappingSource.IMPORT,
                    )
                else:
                    carrier_mapping_save(
                        magento_method=row["magento_method"],
                        courier=row.get("courier") or "",
                        service=row.get("service") or "",
                        actor=None,
                        erp_carrier_id=row.get("erp_carrier_id") or "",
                        note=row.get("note") or "",
                        source=MappingSource.IMPORT,
                    )
                saved += 1
            except ValidationError as exc:
                refused.append(f"line {number}: {' '.join(exc.messages)}")
        return saved, refused
