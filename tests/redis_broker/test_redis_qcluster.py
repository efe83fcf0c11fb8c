"""A real round trip on Redis: the desk enqueues, real `manage.py qcluster` processes run.

Why processes and not django-q2's functions in the test process: the test process runs
tests.settings (sync=True, ORM broker), so only fresh processes with config.settings and
REDIS_URL exercise the configuration an operator deploys: the broker chosen from the URL, the
stock cluster's ALT_CLUSTERS entry under Q_CLUSTER_NAME, signing, the monitor saving results
to the shared database. The task is the desk's own escalation sweep: idempotent, no network.
"""

import time
import uuid

import pytest

from tests.redis_broker.server import DeskProcesses, fetch_all

DEFAULT_QUEUE = "django_q:desk:q"
STOCK_QUEUE = "django_q:desk-stock:q"
TASK = "exceptions_app.tasks.exceptions_escalate_overdue"


def wait_for_task(desk: DeskProcesses, name: str, timeout: float = 90) -> tuple:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = fetch_all(desk.database_url, "SELECT name, func, success FROM django_q_task")
        found = [row for row in rows if row[0] == name]
        if found:
            return found[0]
        time.sleep(0.5)
    pytest.fail(f"task {name} never ran within {timeout}s\n{desk.cluster_logs()}")


def task_names(desk: DeskProcesses) -> set[str]:
    return {row[0] for row in fetch_all(desk.database_url, "SELECT name FROM django_q_task")}


def test_each_cluster_runs_only_the_tasks_on_its_own_redis_list(desk, redis_client):
    on_default, on_stock = f"redis-default-{uuid.uuid4().hex}", f"redis-stock-{uuid.uuid4().hex}"
    desk.python(
        "from django_q.tasks import async_task\n"
        f"async_task({TASK!r}, task_name={on_default!r})\n"
        f"async_task({TASK!r}, task_name={on_stock!r}, cluster='desk-stock')\n"
    )
    # Two lists, one task each: the clusters share a Redis server, not a queue.
    assert {key.decode() for key in redis_client.keys("django_q:*:q")} == {
        DEFAULT_QUEUE,
        STOCK_QUEUE,
    }
    assert redis_client.llen(DEFAULT_QUEUE) == redis_client.llen(STOCK_QUEUE) == 1

    desk.start_cluster()
    assert wait_for_task(desk, on_default) == (on_default, TASK, True)
    # The default cluster took its task and left the stock cluster's alone.
    assert redis_client.llen(DEFAULT_QUEUE) == 0
    assert redis_client.llen(STOCK_QUEUE) == 1
    assert on_stock not in task_names(desk)

    desk.start_cluster("desk-stock")
    assert wait_for_task(desk, on_stock) == (on_stock, TASK, True)
    assert redis_client.llen(STOCK_QUEUE) == 0
