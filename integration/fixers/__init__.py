"""The fixes the integration registers with the exception core: map a SKU, map a shipping
method, correct an address. Each applies through the integration's services and replays the
orders it held.
"""

from exceptions_app.fixers import register_fixer
from integration.fixers import address, carrier, sku

FIXERS = (sku.FIXER, carrier.FIXER, address.FIXER)


def register() -> None:
    for fixer in FIXERS:
        register_fixer(fixer)
