import pytest

from exceptions_app import replay as replay_registry


@pytest.fixture(autouse=True)
def isolated_replayers():
    """Each test registers its own fake replayers; whatever the flows registered comes back."""
    saved = dict(replay_registry._REPLAYERS)
    replay_registry._REPLAYERS.clear()
    yield replay_registry._REPLAYERS
    replay_registry._REPLAYERS.clear()
    replay_registry._REPLAYERS.update(saved)
