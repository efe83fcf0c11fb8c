"""With the queues on Redis, each cluster's depth is its list's length, read through django-q2."""

import pytest
from django.utils import timezone
from django_q.conf import Conf

from integration.health import systems
from tests.redis_broker.server import running_redis

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_redis(settings, monkeypatch):
    with running_redis() as server:
        q_cluster = {k: v for k, v in settings.Q_CLUSTER.items() if k != "orm"}
        settings.Q_CLUSTER = {**q_cluster, "redis": server.url}
        monkeypatch.setattr(Conf, "ORM", None)
        monkeypatch.setattr(Conf, "REDIS", server.url)
        client = server.client()
        yield client
        client.close()


def test_redis_queue_depth_is_the_length_of_each_clusters_list(on_redis, settings):
    for _ in range(3):
        on_redis.rpush("django_q:desk:q", b"task")
    on_redis.rpush(f"django_q:{settings.Q_STOCK_CLUSTER}:q", b"task")
    depths = {d.cluster: d for d in systems.queue_depths(now=timezone.now())}
    assert (depths["desk"].queued, depths["desk"].in_flight) == (3, None)
    assert depths[settings.Q_STOCK_CLUSTER].queued == 1


def test_redis_not_answering_is_shown_as_unknown_not_zero(settings, monkeypatch):
    q_cluster = {k: v for k, v in settings.Q_CLUSTER.items() if k != "orm"}
    url = "redis://127.0.0.1:1/0?socket_connect_timeout=1&socket_timeout=1"
    settings.Q_CLUSTER = {**q_cluster, "redis": url}
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", url)
    depths = systems.queue_depths(now=timezone.now())
    assert [d.queued for d in depths] == [None, None]
    assert depths[0].error.startswith("Redis did not answer")
