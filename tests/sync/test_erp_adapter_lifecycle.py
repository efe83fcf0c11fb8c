"""An ERP adapter is a context manager: whoever opens one with `with` closes its connections."""

import httpx
import pytest

from integration.connections import connections_override
from integration.connectors.tryton.client import TrytonAdapter
from integration.tasks import ORDER, run_flow
from sandbox.erp.inprocess import FakeErp
from tests.sync.conftest import magento_for


def tryton_over(handler) -> TrytonAdapter:
    return TrytonAdapter(
        base_url="http://erp.test",
        database="db",
        api_key="k",
        transport=httpx.MockTransport(handler),
    )


def test_a_tryton_adapter_closes_its_http_client_on_leaving_the_with_block():
    adapter = tryton_over(lambda request: httpx.Response(200, json=[]))
    with adapter as erp:
        assert erp is adapter
        assert erp.search("product.product", [], ["code"]) == []
    with pytest.raises(RuntimeError, match="closed"):
        adapter.search("product.product", [], ["code"])


def test_closing_a_tryton_adapter_twice_is_harmless():
    adapter = tryton_over(lambda request: httpx.Response(200, json=[]))
    adapter.close()
    adapter.close()
    with adapter:
        pass


def test_the_adapter_is_closed_when_the_block_raises():
    closed = []

    class Recording(FakeErp):
        def close(self):
            closed.append(True)

    with pytest.raises(ValueError), Recording() as erp:
        assert isinstance(erp, Recording)
        raise ValueError("flow failed")
    assert closed == [True]


def test_the_fake_erp_supports_with_through_the_base_class():
    with FakeErp() as erp:
        assert erp.items_by_codes([]) == {}
    erp.close()


@pytest.mark.django_db
@pytest.mark.parametrize("flow", [f for f in ORDER if f != "orders_in"])
def test_running_a_flow_by_name_closes_the_erp_adapter_it_opened(flow, magento_app):
    opened: list[FakeErp] = []

    class Recording(FakeErp):
        closes = 0

        def close(self):
            self.closes += 1

    def factory():
        opened.append(Recording())
        return opened[-1]

    with connections_override(magento=lambda: magento_for(magento_app), erp=factory):
        run_flow(flow)
    assert [erp.closes for erp in opened] == [1]
