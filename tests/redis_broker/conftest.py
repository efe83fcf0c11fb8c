"""Fixtures for the Redis broker tests: a real redis-server and the desk run as processes."""

from collections.abc import Iterator

import pytest
from django.conf import settings

from tests.redis_broker.server import (
    DeskProcesses,
    RunningRedis,
    running_redis,
    scratch_database,
)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RunningRedis]:
    with running_redis() as server:
        yield server


@pytest.fixture
def redis_client(redis_server: RunningRedis):
    client = redis_server.client()
    client.flushall()  # each test starts with empty queues
    yield client
    client.close()


@pytest.fixture(scope="module")
def desk_database(redis_server, tmp_path_factory) -> Iterator[str]:
    """A migrated database of the desk's own (see scratch_database), shared by a module."""
    tmp = tmp_path_factory.mktemp("desk-db")
    with scratch_database(tmp) as url:
        DeskProcesses(redis_server.url, url, settings.SECRET_KEY, tmp).manage(
            "migrate", "--noinput"
        )
        yield url


@pytest.fixture
def desk(redis_server, redis_client, desk_database, tmp_path) -> Iterator[DeskProcesses]:
    """The desk on Redis with production settings; any cluster a test starts is stopped after.

    The test's own SECRET_KEY is shared so the test process can read the signed task packages
    the desk puts on Redis (django-q2 signs them with SECRET_KEY, salted by the cluster name).
    """
    desk = DeskProcesses(redis_server.url, desk_database, settings.SECRET_KEY, tmp_path)
    try:
        yield desk
    finally:
        desk.stop_clusters()
