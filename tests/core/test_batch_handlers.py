"""Batch handlers: ``list[EventClass]`` gets batches; a failing batch is retried, then one by one."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from attrs import evolve, frozen

from spine_core import Context, Spine, publish
from spine_core.event import to_message
from spine_core.messages import Headers, OutgoingMessage
from spine_memory.pytest_plugin import StartedApp

from .support import AT, OrderCreated, OrderShipped, options

POISON = 13


class Stock:
    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.shipped: list[int] = []
        self.lock = threading.Lock()

    def reserve(self, ctx: Context, orders: list[OrderCreated]) -> None:
        with self.lock:
            self.batches.append([o.order_id for o in orders])
        if any(o.order_id == POISON for o in orders):
            raise ValueError("order 13 is cursed")
        for order in orders:
            publish.event(ctx, OrderShipped(order.order_id))

    def on_shipped(self, event: OrderShipped) -> None:
        with self.lock:
            self.shipped.append(event.order_id)


@frozen
class Step:
    """The ``seq``-th event of key ``k``."""

    k: int
    seq: int

    def name(self) -> str:
        return "step"

    def occurred_at(self) -> datetime:
        return AT

    def key(self) -> str:
        return str(self.k)


class Steps:
    def __init__(self) -> None:
        self.batches: list[list[Step]] = []

    def on_steps(self, steps: list[Step]) -> None:
        self.batches.append(steps)


def start(spine_app: Callable[..., StartedApp], max_batch: int = 100) -> tuple[StartedApp, Stock]:
    stock = Stock()

    def make_stock() -> Stock:
        return stock

    app = Spine()
    app.constructor(make_stock)
    app.consumers().register("order.created", Stock.reserve, max_batch=max_batch)
    app.consumers().register("order.shipped", Stock.on_shipped)
    return spine_app(app, options(group="stock", http=False, attempts=2)), stock


def test_batches_are_bounded_complete_and_in_key_order(spine_app: Any) -> None:
    """Every event reaches the handler once, in batches of at most max_batch, and the events of
    one key keep their publish order within and across batches."""
    steps = Steps()

    def make_steps() -> Steps:
        return steps

    app = Spine()
    app.constructor(make_steps)
    app.consumers().register("step", Steps.on_steps, max_batch=7)
    started = spine_app(app, options(group="g", http=False))
    started.publish(*[Step(n % 5, n // 5) for n in range(60)])  # 5 keys, 12 steps each
    started.broker.drain()
    batches = steps.batches
    assert all(1 <= len(b) <= 7 for b in batches)
    assert any(len(b) > 1 for b in batches)
    handled = [s for b in batches for s in b]
    assert sorted(handled, key=lambda s: (s.k, s.seq)) == [Step(k, q) for k in range(5) for q in range(12)]
    for k in range(5):
        assert [s.seq for s in handled if s.k == k] == list(range(12))


def test_events_queued_by_a_batch_are_published_after_it_succeeded(spine_app: Any) -> None:
    """What the batch handler queued with publish.event is published once the batch returned."""
    started, stock = start(spine_app)
    started.publish(*[OrderCreated(n) for n in range(20, 40)])
    started.broker.drain()
    assert sorted(stock.shipped) == list(range(20, 40))


def test_a_failing_batch_is_retried_one_by_one_and_only_the_poison_is_dead_lettered(spine_app: Any) -> None:
    """The batch fails on every attempt; its messages are then handled one at a time, so the
    others succeed and only the failing one goes to the dead-letter topic, with its reason."""
    started, stock = start(spine_app)
    one_key = [evolve(to_message(OrderCreated(n), "", "test"), key="k") for n in range(10, 17)]
    started.broker.publish(one_key, timeout=5)
    started.broker.drain()
    assert stock.batches[:2] == [list(range(10, 17))] * 2  # the batch, and its retry
    assert stock.batches[2:] == [[n] for n in (10, 11, 12, 13, 13, 14, 15, 16)]  # one by one, in order
    assert sorted(stock.shipped) == [10, 11, 12, 14, 15, 16]
    [dead] = started.broker.messages("order.created.dlq")
    assert dead.value == one_key[3].value
    assert dead.headers[Headers.ERROR_TYPE] == "ValueError"
    assert dead.headers[Headers.ATTEMPTS] == "2"


def test_an_undecodable_message_is_dead_lettered_alone(spine_app: Any) -> None:
    """A message that does not decode is dead-lettered at once; the rest of its batch is handled."""
    started, stock = start(spine_app)
    good = [to_message(OrderCreated(n), "", "test") for n in (1, 2)]
    bad = OutgoingMessage("order.created", b'{"order_id": "x"', "9", {Headers.EVENT_NAME: "order.created"})
    started.broker.publish([good[0], bad, good[1]], timeout=5)
    started.broker.drain()
    assert sorted(stock.shipped) == [1, 2]
    [dead] = started.broker.messages("order.created.dlq")
    assert dead.value == bad.value and dead.headers[Headers.ATTEMPTS] == "0"


def test_a_batch_is_counted_per_message(spine_app: Any) -> None:
    """Metrics counted once per batch still count every message: its outcome (an undecodable one
    apart, dead-lettered with the reason naming the field), its duration, nothing left in flight."""
    started, stock = start(spine_app, max_batch=50)
    good = [to_message(OrderCreated(n), "", "test") for n in range(1, 7)]
    bad = OutgoingMessage("order.created", b'{"order_id": "x"}', "9", {Headers.EVENT_NAME: "order.created"})
    started.broker.publish([*good[:3], bad, *good[3:]], timeout=5)
    started.broker.drain()
    assert sorted(stock.shipped) == list(range(1, 7))
    [dead] = started.broker.messages("order.created.dlq")
    assert "order_id" in dead.headers[Headers.ERROR_MESSAGE]
    metrics = started.runtime.metrics
    assert metrics is not None

    def value(name: str, **labels: str) -> float | None:
        assert metrics is not None
        return metrics.registry.get_sample_value(name, {"topic": "order.created", **labels})

    assert value("spine_messages_consumed_total", outcome="ok") == 6
    assert value("spine_messages_consumed_total", outcome="undecodable") == 1
    assert value("spine_message_duration_seconds_count") == 7
    assert value("spine_messages_in_flight") == 0
