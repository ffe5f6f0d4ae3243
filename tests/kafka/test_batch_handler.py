"""A batch handler on Kafka: batches are runs of one partition, keys stay in order, offsets are committed."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition

from spine_core import BrokerOptions, Options, ReadOptions, Spine
from spine_core.event import encode
from spine_core.testing import wait_until

from .support import Tick, ticks, unique

STREAM = 300


def test_batches_hold_every_tick_once_in_key_order_and_are_committed(
    kafka_app: Callable[..., Any], kafka_bootstrap_servers: str
) -> None:
    """Every tick reaches the batch handler once; a key's ticks keep their order; several ticks
    come in one batch; the group's committed offsets cover the stream afterwards."""
    batches: list[list[Tick]] = []
    lock = threading.Lock()

    def on_ticks(events: list[Tick]) -> None:
        with lock:
            batches.append(events)

    prefix, group = unique("batch") + ".", unique("batch")
    app = Spine()
    app.consumers().register("tick", on_ticks, max_batch=50)
    started = kafka_app(app, Options(http=None, broker=BrokerOptions(
        name="kafka", topic_prefix=prefix, read=ReadOptions(group_id=group))))
    started.wait_ready()
    producer = Producer({"bootstrap.servers": kafka_bootstrap_servers, "enable.idempotence": True})
    for tick in ticks(STREAM):
        producer.produce(prefix + "tick", encode(tick), key=tick.key_.encode(), headers=[("event-name", b"tick")])
    assert producer.flush(30) == 0
    wait_until(lambda: sum(map(len, batches)) >= STREAM, 60, "every tick handled")
    handled = [t for b in batches for t in b]
    assert sorted(t.n for t in handled) == list(range(STREAM))
    assert all(len(b) <= 50 for b in batches) and any(len(b) > 1 for b in batches)
    for key in {t.key_ for t in handled}:
        numbers = [t.n for t in handled if t.key_ == key]
        assert numbers == sorted(numbers), f"key {key} out of order"
    reader = Consumer({"bootstrap.servers": kafka_bootstrap_servers, "group.id": group})
    try:
        def committed() -> int:
            offsets = reader.committed([TopicPartition(prefix + "tick", p) for p in range(3)], timeout=10)
            return sum(max(0, tp.offset) for tp in offsets)

        wait_until(lambda: committed() == STREAM, 10, "the group's offsets committed to the stream's end")
    finally:
        reader.close()
