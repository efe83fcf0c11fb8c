import pytest

from accounts.roles import ROLES
from sandbox.erp.testing import tryton_server  # noqa: F401 - a real trytond, session-scoped
from tests.factories import UserFactory


@pytest.fixture
def personas(db) -> dict:
    """One user per role plus an outsider with no role."""
    users = {role: UserFactory(username=f"{role}-persona", roles=[role]) for role in ROLES}
    users["outsider"] = UserFactory(username="outsider-persona", roles=[])
    return users


@pytest.fixture
def client_as(client, personas):
    def login(who: str):
        client.force_login(personas[who])
        return client

    return login
