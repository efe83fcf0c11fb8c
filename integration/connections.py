"""The Magento client and ERP adapter the flows use, built from settings.

Each call builds a fresh client or adapter that the caller closes (`with erp_adapter() as
erp:`), so a factory installed with `connections_override` by tests and benchmarks (an
in-process sandbox transport, a test Tryton) hands out a new one per call rather than one
shared instance. Nothing else in the flows knows where the systems are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from integration.connectors.erp import ErpAdapter
from integration.connectors.magento.client import MagentoClient


def _default_magento() -> MagentoClient:
    return MagentoClient.from_settings()


def _default_erp() -> ErpAdapter:
    from integration.connectors.tryton.client import TrytonAdapter

    return TrytonAdapter.from_settings()


_factories: dict[str, Callable] = {"magento": _default_magento, "erp": _default_erp}


def magento_client() -> MagentoClient:
    return _factories["magento"]()


def erp_adapter() -> ErpAdapter:
    return _factories["erp"]()


@contextmanager
def connections_override(
    *,
    magento: Callable[[], MagentoClient] | None = None,
    erp: Callable[[], ErpAdapter] | None = None,
) -> Iterator[None]:
    saved = dict(_factories)
    if magento is not None:
        _factories["magento"] = magento
    if erp is not None:
        _factories["erp"] = erp
    try:
        yield
    finally:
        _factories.update(saved)
