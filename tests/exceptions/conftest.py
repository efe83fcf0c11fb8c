import pytest

from exceptions_app import replay as replay_registry
from exceptions_app.services import exception_raise


@pytest.fixture(autouse=True)
def isolated_replayers():
    """Each test registers its own fake replayers; whatever the flows registered comes back."""
    saved = dict(replay_registry._REPLAYERS)
    replay_registry._REPLAYERS.clear()
    yield replay_registry._REPLAYERS
    replay_registry._REPLAYERS.clear()
    replay_registry._REPLAYERS.update(saved)


@pytest.fixture
def raise_sku(db):
    def make(sku: str = "MH01-XS-Black", **kwargs):
        return exception_raise(
            kind=kwargs.pop("kind", "sku_unknown"),
            subject=sku,
            sku=sku,
            system="erp",
            message=kwargs.pop("message", f"SKU {sku} is not in the ERP item master"),
            **kwargs,
        )

    return make
