"""What Magento and the ERP wrote (an error body) reaches the page escaped, never as markup."""

import pytest
from django.urls import reverse

from integration.models import Flow, RunStatus
from tests.health.factories import SyncRunFactory

pytestmark = pytest.mark.django_db

PAYLOAD = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


def test_a_run_error_with_markup_is_shown_escaped(client_as):
    SyncRunFactory(
        flow=Flow.ORDERS_IN,
        status=RunStatus.FAILED,
        error=f"magento: {PAYLOAD}",
        error_system="magento",
    )
    body = client_as("cx").get(reverse("health:dashboard")).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<script>alert" not in body and "<img src=x" not in body
