import pytest

from accounts.roles import ROLES
from sandbox.erp.testing import tryton_server  # noqa: F401 - a real trytond, session-scoped
from tests.browser_fixtures import browser, page, screenshot  # noqa: F401 - one browser for all
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


@pytest.fixture
def docs_screenshot():
    """Screenshots for the guides: always under var/screenshots/docs/, and into docs/screenshots/
    only when UPDATE_DOCS_SCREENSHOTS=1 (`make docs-screenshots`), so a test run never rewrites
    tracked files."""
    import os
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    out = root / "var" / "screenshots" / "docs"
    out.mkdir(parents=True, exist_ok=True)
    publish = os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1"

    def take(locator, name: str, **options) -> Path:
        path = out / f"{name}.png"
        locator.screenshot(path=str(path), **options)
        if publish:
            (root / "docs" / "screenshots").mkdir(parents=True, exist_ok=True)
            (root / "docs" / "screenshots" / path.name).write_bytes(path.read_bytes())
        return path

    return take
