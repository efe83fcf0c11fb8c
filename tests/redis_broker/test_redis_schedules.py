"""Schedules live in the database whatever the broker; on Redis each lands on its cluster's list.

`desk_schedules` runs under REDIS_URL as `make run` would, then django-q2's own scheduler (the
function each cluster's guard calls about every 30 s) is run once per cluster, in processes
with config.settings, and the Redis lists are read back and their signed packages opened.
"""

from django_q.signing import SignedPackage

from config.schedules import SCHEDULES, STOCK_CLUSTER
from tests.redis_broker.server import fetch_all

DEFAULT_QUEUE = "django_q:desk:q"
STOCK_QUEUE = "django_q:desk-stock:q"
RUN_SCHEDULER = "from django_q.scheduler import scheduler\nscheduler()\n"


def queued(redis_client, queue: str) -> list[dict]:
    return [SignedPackage.loads(raw.decode()) for raw in redis_client.lrange(queue, 0, -1)]


def test_desk_schedules_works_on_redis_and_each_due_schedule_reaches_its_cluster(
    desk, redis_client
):
    desk.manage("desk_schedules")
    desk.manage("desk_schedules")  # idempotent under Redis too
    rows = fetch_all(desk.database_url, "SELECT name, func, cluster FROM django_q_schedule")
    # STOCK_CLUSTER in the list is the Q_STOCK_CLUSTER setting, "desk-stock" by default.
    clusters = {STOCK_CLUSTER: "desk-stock"}
    assert sorted(rows) == sorted(
        (s.name, s.func, clusters.get(s.cluster, s.cluster)) for s in SCHEDULES
    )

    # Interval schedules are due at once; daily ones wait for their hour.
    due = [s for s in SCHEDULES if s.schedule_type == "I"]
    due_default = sorted(s.func for s in due if s.cluster is None)
    due_stock = sorted(s.func for s in due if s.cluster == STOCK_CLUSTER)
    assert due_default and due_stock

    desk.python(RUN_SCHEDULER)  # the default cluster's scheduler
    assert sorted(task["func"] for task in queued(redis_client, DEFAULT_QUEUE)) == due_default
    assert redis_client.llen(STOCK_QUEUE) == 0  # not the default cluster's to schedule

    desk.python(RUN_SCHEDULER, Q_CLUSTER_NAME="desk-stock")
    assert sorted(task["func"] for task in queued(redis_client, STOCK_QUEUE)) == due_stock
    assert len(queued(redis_client, DEFAULT_QUEUE)) == len(due_default)  # nothing added twice
    names = {task["group"] for task in queued(redis_client, STOCK_QUEUE)}
    assert names == {s.name for s in due if s.cluster == STOCK_CLUSTER}

    # A second pass finds nothing due: next_run moved on when the schedule fired.
    desk.python(RUN_SCHEDULER)
    assert len(queued(redis_client, DEFAULT_QUEUE)) == len(due_default)
