"""The seed scenario over Redis Streams as two processes, ``apps/`` unchanged (``SPINE_BROKER=redis``),
and a stock service killed mid-stream whose pending entries the next member claims."""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
import redis
from rabbitmq.processes import ServiceProcess

from apps.events import OrderCreated
from spine_core.options import BrokerConfig, WriteOptions
from spine_core.event import to_message

from .conftest import RedisScope

ORDER_ID = re.compile(r"OrderID: (\d+)")


@pytest.fixture
def processes() -> Iterator[list[ServiceProcess]]:
    started: list[ServiceProcess] = []
    yield started
    for p in started:
        p.close()


def start(processes: list[ServiceProcess], module: str, env: dict[str, str]) -> ServiceProcess:
    process = ServiceProcess(module, env)
    processes.append(process)
    return process


def order_ids(lines: list[str]) -> set[int]:
    return {int(m.group(1)) for line in lines if (m := ORDER_ID.search(line))}


def test_seed_scenario_over_redis(scope: RedisScope, processes: list[ServiceProcess]) -> None:
    """POST /orders/12345 → OK, and the stock service logs the seed's two lines; both exit cleanly."""
    stock = start(processes, "apps.stock_app", scope.env())
    stock.wait_for("consuming", 30)
    order = start(processes, "apps.order_app", scope.env())
    url = f"http://127.0.0.1:{order.port()}/orders/12345"
    with urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=15) as response:
        assert (response.status, response.read()) == (200, b"OK")
    stock.wait_for("Kafka Event: order.created", 10)
    stock.wait_for("OrderID: 12345", 10)
    assert order.terminate() == 0
    assert stock.terminate() == 0


def test_entries_of_a_killed_member_are_claimed_by_the_next(
    scope: RedisScope, processes: list[ServiceProcess]
) -> None:
    """SIGKILL the stock service while it works through 3,000 orders, start another member: it
    claims the dead member's pending entries (``XAUTOCLAIM`` after ``claim.idle``), so every
    order is handled at least once, and nothing stays pending."""
    total, stream = 3000, scope.prefix + "order.created"
    env = scope.env(SPINE_REDIS_CLAIM_IDLE="2", SPINE_REDIS_MAX_PENDING="400")
    first = start(processes, "apps.stock_app", env)
    first.wait_for("consuming", 30)
    publisher = scope.plugin(BrokerConfig(name="redis", topic_prefix=scope.prefix, write=WriteOptions()))
    now = datetime.now(timezone.utc)
    for start_id in range(0, total, 250):
        batch = [to_message(OrderCreated(i, now), scope.prefix, "kill-test") for i in range(start_id, start_id + 250)]
        publisher.spine_publish(messages=batch, timeout=10.0)
    assert first.wait_lines(lambda lines: len(order_ids(lines)) >= 300, 20), "the consumer did not start"
    first.kill()
    before = order_ids(first.lines)
    assert len(before) < total, "the kill did not land mid-stream"
    client = redis.Redis.from_url(scope.url)
    left_pending = client.xpending(stream, scope.group)["pending"]
    assert left_pending > 0, "the dead member left no pending entries to claim"

    second = start(processes, "apps.stock_app", env)
    second.wait_lines(lambda lines: len(before | order_ids(lines)) == total, 60)
    missing = set(range(total)) - before - order_ids(second.lines)
    assert not missing, f"{len(missing)} order(s) never handled, e.g. {sorted(missing)[:10]}"
    assert second.terminate() == 0
    assert client.xpending(stream, scope.group)["pending"] == 0
    members: Any = client.xinfo_consumers(stream, scope.group)
    assert len(members) == 1, "the member shut down gracefully did not leave the group"  # the killed one stays
    client.close()
