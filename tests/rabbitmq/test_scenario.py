"""The seed scenario over RabbitMQ as two processes, ``apps/`` unchanged (``SPINE_BROKER=rabbitmq``)."""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest

from apps.events import OrderCreated
from spine_core.options import BrokerConfig, WriteOptions
from spine_core.event import to_message

from .conftest import RabbitScope
from .processes import ServiceProcess

ORDER_ID = re.compile(r"OrderID: (\d+)")


@pytest.fixture
def processes() -> Iterator[list[ServiceProcess]]:
    started: list[ServiceProcess] = []
    yield started
    for p in started:
        p.close()


class OrderIds:
    """Order ids a stock service logged as handled, read incrementally from its growing log."""

    def __init__(self) -> None:
        self.ids: set[int] = set()
        self._read = 0

    def __call__(self, lines: list[str]) -> set[int]:
        self.ids.update(int(m.group(1)) for line in lines[self._read:] if (m := ORDER_ID.search(line)))
        self._read = len(lines)
        return self.ids


def start(processes: list[ServiceProcess], module: str, env: dict[str, str]) -> ServiceProcess:
    process = ServiceProcess(module, env)
    processes.append(process)
    return process


def test_seed_scenario_over_rabbitmq(rabbit: RabbitScope, processes: list[ServiceProcess]) -> None:
    """POST /orders/12345 → OK, and the stock service logs the seed's two lines; both exit cleanly."""
    rabbit.topic_queues("order.created")
    stock = start(processes, "apps.stock_app", rabbit.env())
    stock.wait_for("consuming", 30)
    order = start(processes, "apps.order_app", rabbit.env())
    url = f"http://127.0.0.1:{order.port()}/orders/12345"
    with urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=15) as response:
        assert (response.status, response.read()) == (200, b"OK")
    stock.wait_for("Kafka Event: order.created", 10)
    stock.wait_for("OrderID: 12345", 10)
    assert order.terminate() == 0
    assert stock.terminate() == 0


def test_consumer_killed_mid_stream_handles_every_message_at_least_once(
    rabbit: RabbitScope, processes: list[ServiceProcess]
) -> None:
    """SIGKILL the stock service while it works through 3,000 orders, start it again: every
    order is handled at least once (those handled but not yet acked are handled twice)."""
    total = 3000
    rabbit.topic_queues("order.created")
    first = start(processes, "apps.stock_app", rabbit.env())
    first.wait_for("consuming", 30)
    publisher = rabbit.plugin(BrokerConfig(name="rabbitmq", topic_prefix=rabbit.prefix, write=WriteOptions()))
    publisher.spine_broker_start()
    now = datetime.now(timezone.utc)
    for start_id in range(0, total, 250):
        batch = [to_message(OrderCreated(i, now), rabbit.prefix, "kill-test") for i in range(start_id, start_id + 250)]
        publisher.spine_publish(messages=batch, timeout=10.0)
    first_ids, second_ids = OrderIds(), OrderIds()
    assert first.wait_lines(lambda lines: len(first_ids(lines)) >= 300, 20), "the consumer did not start"
    first.kill()
    before = set(first_ids(first.lines))
    assert len(before) < total, "the kill did not land mid-stream"

    second = start(processes, "apps.stock_app", rabbit.env())
    second.wait_lines(lambda lines: len(before | second_ids(lines)) == total, 60)
    missing = set(range(total)) - before - second_ids(second.lines)
    assert not missing, f"{len(missing)} order(s) never handled, e.g. {sorted(missing)[:10]}"
    assert second.terminate() == 0
