"""REDIS_URL turns both django-q2 clusters onto Redis, with timeouts and a clear error if wrong."""

import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from redis.connection import parse_url

from config.env import env_redis_url

DEFAULT_QUEUE = "django_q:desk:q"
STOCK_QUEUE = "django_q:desk-stock:q"


def test_unset_means_the_orm_broker(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert env_redis_url("REDIS_URL", timeout_seconds=10) == ""


def test_socket_timeouts_are_added_so_a_hung_redis_fails_the_call(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://:s3cret@10.0.0.5:6380/2")
    parsed = parse_url(env_redis_url("REDIS_URL", timeout_seconds=10))
    assert parsed["socket_timeout"] == 10.0
    assert parsed["socket_connect_timeout"] == 10.0
    assert (parsed["host"], parsed["port"], parsed["db"]) == ("10.0.0.5", 6380, 2)
    assert parsed["password"] == "s3cret"


def test_timeouts_already_in_the_url_win(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "rediss://cache.internal:6379/0?socket_timeout=3")
    parsed = parse_url(env_redis_url("REDIS_URL", timeout_seconds=10))
    assert parsed["socket_timeout"] == 3.0
    assert parsed["socket_connect_timeout"] == 10.0


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:6379/0", "redis://, rediss:// or unix://"),
        ("127.0.0.1:6379", "redis://, rediss:// or unix://"),
        ("redis:///0", "names no host"),
    ],
)
def test_a_wrong_url_is_refused_with_the_variable_named(monkeypatch, url, message):
    monkeypatch.setenv("REDIS_URL", url)
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL") as error:
        env_redis_url("REDIS_URL", timeout_seconds=10)
    assert message in str(error.value)


def test_a_timeout_shorter_than_the_brokers_poll_is_refused(monkeypatch):
    # django-q2 polls with BLPOP ... 1: a 1 s socket timeout would break every idle poll.
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    with pytest.raises(ImproperlyConfigured, match="exceed"):
        env_redis_url("REDIS_URL", timeout_seconds=1)


PROBE = """
import json
from django.conf import settings
from django.db import connection
from django_q.brokers import get_broker
from django_q.conf import Conf
broker = get_broker()
pool = getattr(getattr(broker, "connection", None), "connection_pool", None)
if pool is not None:
    broker.enqueue("probe from " + Conf.CLUSTER_NAME)
print(json.dumps({
    "broker": type(broker).__name__,
    "cluster": Conf.CLUSTER_NAME,
    "list_key": broker.list_key,
    "orm_configured": "orm" in settings.Q_CLUSTER,
    "socket_timeout": pool.connection_kwargs.get("socket_timeout") if pool else None,
    "workers": Conf.WORKERS,
    "catch_up": Conf.CATCH_UP,
    "database": connection.vendor,
}))
"""


def probe(desk, **env) -> dict:
    return json.loads(desk.python(PROBE, **env).strip().splitlines()[-1])


def test_redis_url_gives_each_cluster_a_working_broker_on_its_own_list(desk, redis_client):
    """config.settings as deployed, in fresh processes: the default and the stock cluster."""
    default = probe(desk)
    stock = probe(desk, Q_CLUSTER_NAME="desk-stock")

    assert default["broker"] == stock["broker"] == "Redis"
    assert not default["orm_configured"]  # the ORM entry would win over Redis in get_broker
    assert (default["cluster"], default["list_key"]) == ("desk", DEFAULT_QUEUE)
    assert (stock["cluster"], stock["list_key"]) == ("desk-stock", STOCK_QUEUE)
    assert stock["workers"] == 1  # ALT_CLUSTERS applies on Redis too
    assert default["socket_timeout"] == stock["socket_timeout"] == 10.0
    assert default["catch_up"] is stock["catch_up"] is False
    # On the PostgreSQL suite the desk's processes pair Redis with PostgreSQL (scale-out).
    assert default["database"] == connection.vendor
    # Each probe reached this redis-server and wrote to its own cluster's list only.
    assert redis_client.lrange(DEFAULT_QUEUE, 0, -1) == [b"probe from desk"]
    assert redis_client.lrange(STOCK_QUEUE, 0, -1) == [b"probe from desk-stock"]


def test_without_redis_url_the_orm_broker_stays_the_default(desk):
    assert probe(desk, REDIS_URL="")["broker"] == "ORM"
