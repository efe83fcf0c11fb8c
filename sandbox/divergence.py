"""How the ERP item master differs from the Magento (Luma) catalogue, shared by both sandboxes.

The Magento sandbox sells every Luma SKU; the Tryton bootstrap builds its item master from the
same CSV but leaves some SKUs out, deactivates others and files a few under a different code,
the way real item masters drift. Both sides import this module so an order seeded with a
"missing" SKU is guaranteed to hit a SKU the ERP really lacks.

The selection is a pure function of the CSV: SKUs are ranked by a SHA-256 of the SKU (stable
across Python versions and machines, unlike `random` or `hash()`), and the first slices of
that ranking are taken. No configuration, no state.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

# In-repo copy of magento/magento2-sample-data's catalogue (see sandbox/magento/data/SOURCES.md).
CATALOGUE_CSV = Path(__file__).resolve().parent / "magento" / "data" / "luma_catalog_products.csv"

# Product types the ERP stocks as items. Configurable and bundle parents, and grouped products,
# are Magento presentation objects: orders carry the child simple SKU for them.
STOCKED_TYPES = frozenset({"simple", "downloadable"})

MISSING_SHARE = 0.01
INACTIVE_SHARE = 0.005
RENAMED_SHARE = 0.005
# Prefix of an ERP code for a renamed SKU: "MH01-XS-Black" is "LU-MH01XSBLACK" in the ERP.
RENAMED_PREFIX = "LU-"


@dataclass(frozen=True)
class Divergence:
    """SKUs (Magento spelling) the ERP lacks, holds inactive, or files under another code."""

    missing: frozenset[str]
    inactive: frozenset[str]
    # Magento SKU -> ERP item code
    renamed: dict[str, str] = field(default_factory=dict)

    def erp_code(self, sku: str) -> str | None:
        """The ERP code for a Magento SKU, or None when the ERP has no item for it."""
        if sku in self.missing:
            return None
        return self.renamed.get(sku, sku)


def catalogue_rows() -> list[dict[str, str]]:
    """Every row of the Luma catalogue CSV, in file order (sku, name, type_id, price, qty, ...)."""
    return list(_catalogue_rows())


@cache
def _catalogue_rows() -> tuple[dict[str, str], ...]:
    with CATALOGUE_CSV.open(newline="", encoding="utf-8") as handle:
        return tuple(csv.DictReader(handle))


def stocked_skus() -> list[str]:
    """SKUs the ERP would stock if it were a perfect copy of Magento, in CSV order."""
    return [row["sku"] for row in _catalogue_rows() if row["type_id"] in STOCKED_TYPES]


def _rank(sku: str) -> str:
    return hashlib.sha256(f"erp-divergence:{sku}".encode()).hexdigest()


def renamed_code(sku: str) -> str:
    return RENAMED_PREFIX + "".join(ch for ch in sku.upper() if ch.isalnum())


@cache
def catalogue_divergence() -> Divergence:
    """The fixed divergence between the Luma catalogue and the ERP item master.

    About 1% of stocked SKUs are missing, 0.5% inactive, 0.5% renamed; the three sets are disjoint.
    """
    skus = sorted(stocked_skus(), key=_rank)
    n_missing = max(1, round(len(skus) * MISSING_SHARE))
    n_inactive = max(1, round(len(skus) * INACTIVE_SHARE))
    n_renamed = max(1, round(len(skus) * RENAMED_SHARE))
    missing = skus[:n_missing]
    inactive = skus[n_missing : n_missing + n_inactive]
    renamed = skus[n_missing + n_inactive : n_missing + n_inactive + n_renamed]
    return Divergence(
        missing=frozenset(missing),
        inactive=frozenset(inactive),
        renamed={sku: renamed_code(sku) for sku in sorted(renamed)},
    )
