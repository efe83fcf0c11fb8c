"""The test tooling's redis-server: a missing binary fails loudly, a running one is throw-away."""

import pytest

from tests.redis_broker.server import running_redis


def test_a_missing_redis_server_fails_the_run_and_says_how_to_install_it(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with (
        pytest.raises(pytest.fail.Exception, match="apt-get install redis-server"),
        running_redis(),
    ):
        pass


def test_the_server_keeps_nothing_on_disk_and_listens_on_loopback_only(redis_client):
    config = {**redis_client.config_get("save"), **redis_client.config_get("appendonly")}
    assert config == {"save": "", "appendonly": "no"}
    assert redis_client.config_get("bind")["bind"] == "127.0.0.1"
