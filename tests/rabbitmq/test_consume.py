"""Consuming over RabbitMQ: reconnecting after an outage, RabbitMQ's own safety net, boot errors."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from attrs import evolve

from apps import stock_app
from apps.events import OrderCreated
from spine_core import Spine

from spine_core.errors import BootError
from spine_core.messages import ACK, Subscription
from spine_core.options import BrokerConfig, ReadOptions, RetryOptions, WriteOptions
from spine_core.testing import wait_until

from .conftest import RabbitScope
from .proxy import Proxy
from .support import Handled, client, order_service, stock_service, take


def test_consumer_reconnects_and_the_unacked_message_is_redelivered(rabbit: RabbitScope, proxy: Proxy) -> None:
    """The connection drops while a handler runs: its late ack is void, RabbitMQ redelivers the
    message once the consumer has reconnected, and a message published meanwhile arrives too."""
    handled = Handled(hold=1)
    stock = stock_service(rabbit, handled, url=proxy.url())
    http = client(order_service(rabbit))
    assert http.simulate_post("/orders/1").text == "OK"
    assert handled.entered.wait(10), "the handler never got order 1"
    proxy.cut()
    wait_until(lambda: not stock.runtime.health().ready, 5, "readiness to report the lost consumer")
    handled.release.set()
    assert http.simulate_post("/orders/2").text == "OK"  # the queue exists: routable while the consumer is away
    proxy.restore()
    handled.wait_for({1, 2}, 20)
    wait_until(lambda: len(handled.ids) >= 3, 10, "order 1 to be redelivered")
    assert sorted(handled.ids) == [1, 1, 2], "order 1 is handled again (its ack was lost), order 2 once"
    wait_until(lambda: stock.runtime.health().ready, 15, "readiness (consumer and dead-letter publisher back)")


def test_rabbitmq_dead_letters_a_message_past_the_delivery_limit(rabbit: RabbitScope) -> None:
    """The quorum queue's delivery limit is a safety net: a message that keeps coming back
    unsettled (its consumer dies every time) ends in ``<topic>.dlq`` with RabbitMQ's x-death."""
    _, dlq = rabbit.topic_queues("order.created")
    http = client(order_service(rabbit))
    for delivery in (1, 2):  # delivery limit 1: the second return dead-letters it
        handled = Handled(hold=5)
        stock = stock_service(rabbit, handled, **{"delivery.limit": "1"})
        if delivery == 1:
            assert http.simulate_post("/orders/5").text == "OK"
        assert handled.entered.wait(10), f"delivery {delivery} of order 5 never came"
        rabbit.stop(stock, timeout=0.0)  # as if the process died while handling it
        handled.release.set()
    letters: list[tuple[Any, Any, bytes]] = []

    def dead_lettered() -> bool:
        letters.extend(take(rabbit, dlq))
        return bool(letters)

    wait_until(dead_lettered, 10, "the dead letter")
    [(_, props, body)] = letters
    assert json.loads(body)["order_id"] == 5
    assert props.headers["x-death"][0]["reason"] == "delivery_limit"  # type: ignore[attr-defined]


def test_queue_declared_with_other_arguments_is_a_boot_error(rabbit: RabbitScope) -> None:
    """A group queue that exists with other arguments (here: classic, not quorum) stops the
    consumer at boot with RabbitMQ's reason instead of consuming from the wrong queue."""
    queue, _ = rabbit.topic_queues("order.created")
    channel = rabbit.channel()
    try:
        channel.queue_declare(queue, durable=True, arguments={"x-queue-type": "classic"})
    finally:
        channel.connection.close()
    config = BrokerConfig(name="rabbitmq", topic_prefix=rabbit.prefix, write=WriteOptions(),
                          read=ReadOptions(group_id=rabbit.group))
    plugin = rabbit.plugin(config)
    plugin.spine_broker_start()
    with pytest.raises(BootError, match="PRECONDITION_FAILED"):
        plugin.spine_subscribe(group_id=rabbit.group,
                               subscriptions=[Subscription(rabbit.prefix + "order.created", lambda m: ACK)])


def test_lag_and_readiness_are_served(rabbit: RabbitScope) -> None:
    """``/metrics`` reports the messages ready in the group's queue as ``spine_consumer_lag``
    (partition 0: a queue has none) and ``/health/ready`` the connection state."""
    handled = Handled(hold=1)
    stock = client(stock_service(rabbit, handled, prefetch="1"))
    http = client(order_service(rabbit))
    for order_id in (1, 2, 3):
        assert http.simulate_post(f"/orders/{order_id}").text == "OK"
    assert handled.entered.wait(10)
    line = f'spine_consumer_lag{{group="{rabbit.group}",partition="0",topic="{rabbit.prefix}order.created"}} 2.0'
    wait_until(lambda: line in stock.simulate_get("/metrics").text, 10, "a lag of 2 (order 1 is being handled)")
    assert stock.simulate_get("/health/ready").status_code == 200
    handled.release.set()
    wait_until(lambda: line.replace("} 2.0", "} 0.0") in stock.simulate_get("/metrics").text, 10, "a lag of 0")


class Gathering:
    """A handler that only returns once four orders are being handled at the same time."""

    def __init__(self) -> None:
        self.barrier = threading.Barrier(4, timeout=10)
        self.ids: list[int] = []

    def on_created(self, event: OrderCreated) -> None:
        self.barrier.wait()
        self.ids.append(event.order_id)


def test_one_member_handles_different_keys_in_parallel(rabbit: RabbitScope) -> None:
    """With ``workers=4``, four orders of different keys are in their handlers at once
    (keys 1, 2, 4 and 5 fall on four different workers)."""
    gathering = Gathering()

    def make() -> Gathering:
        return gathering

    app = Spine()
    app.constructor(make)
    app.consumers().register("order.created", Gathering.on_created)
    rabbit.topic_queues("order.created")
    options = stock_app.options()
    read = ReadOptions(group_id=rabbit.group, retry=RetryOptions(attempts=1))  # a broken barrier is not retried
    options = evolve(options, broker=evolve(options.broker, read=read))
    rabbit.start(app, options, workers="4")
    http = client(order_service(rabbit))
    for order_id in (1, 2, 4, 5):
        assert http.simulate_post(f"/orders/{order_id}").text == "OK"
    wait_until(lambda: len(gathering.ids) == 4, 15, "four orders handled together")
    assert sorted(gathering.ids) == [1, 2, 4, 5]
