"""The in-process ERP moved to the sandbox; this name stays for tests that still import it here."""

from sandbox.erp.inprocess import FakeErp

__all__ = ["FakeErp"]
