"""The pytest plugin shipped with spine-memory, as a user's test suite sees it."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

USER_TESTS = '''
from datetime import datetime, timezone

from attrs import frozen

from spine_core import BrokerOptions, Context, Options, ReadOptions, Spine, WriteOptions, publish, path
from spine_core.messages import ACK, OutgoingMessage, Subscription
from spine_memory import MemoryBroker

seen = []
brokers = []


@frozen
class Created:
    order_id: int

    def name(self): return "created"
    def occurred_at(self): return datetime.now(timezone.utc)


def create(ctx: Context, order_id: path.Int) -> str:
    publish.event(ctx, Created(order_id.value))
    return "OK"


def on_created(event: Created) -> None:
    seen.append(event.order_id)


def test_publish_and_consume(spine_app):
    orders = Spine()
    orders.route("POST", "/orders/:order_id", create)
    stock = Spine()
    stock.consumers().register("created", on_created)
    # Options naming another broker still run on the test's memory broker.
    spine_app(stock, Options(http=None, broker=BrokerOptions(name="kafka", read=ReadOptions(group_id="stock"))))
    started = spine_app(orders, Options(broker=BrokerOptions(name="kafka", write=WriteOptions())))
    assert started.client.simulate_post("/orders/7").text == "OK"
    started.broker.drain()
    assert seen == [7]
    assert started.broker is not MemoryBroker.shared()
    brokers.append(started.broker)


def test_next_test_starts_clean(memory_broker):
    assert memory_broker is not brokers[0]
    assert memory_broker.messages("created") == []
    # The previous test's consumer was stopped at its end: a newcomer to its group gets everything.
    old = brokers[0]
    old.publish([OutgoingMessage("created", b'{"order_id": 99}') for _ in range(8)], 1)
    got = []
    member = old.join("stock", [Subscription("created", lambda m: got.append(m) or ACK)])
    old.drain()
    old.leave(member, 1)
    assert len(got) == 8 and 99 not in seen
'''


def test_fixtures_start_apps_on_a_fresh_broker_and_close_them(pytester: pytest.Pytester) -> None:
    """``spine_app`` runs apps on a per-test memory broker and stops their consumers after the test."""
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
