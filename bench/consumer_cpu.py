"""The kafka consumer path's own cost per message, without a broker: a stand-in for librdkafka's
consumer serves pre-built ``confluent_kafka.Message`` objects (the bench's ``order.created`` events,
headers and keys as the order service sends them, on 3 partitions) to Spine's real consumer: poll
thread, lanes, workers, the deliver chain, offsets and commits.

``python -m bench.consumer_cpu MESSAGES WORKERS BATCH [json|msgpack]`` prints the process CPU time
per message from the consumer's start to its last message handled (WORKERS 0: the conversion and
the chain only, on one thread; BATCH > 0: a batch handler of up to BATCH events). It depends on
neither the broker, the network nor librdkafka's threads: compare interleaved runs (A B B A) of two
trees (``PYTHONPATH=<tree>/spine_core:<tree>/spine_kafka:<tree>``).
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timezone
from typing import Any

from confluent_kafka import Message, TopicPartition

import spine_kafka.consumer as kafka_consumer
from apps.events import OrderCreated
from spine_core.codecs.base import Codec
from spine_core.codecs.json import JSON
from spine_core.codecs.msgpack import MSGPACK
from spine_core.event import to_message
from spine_core.runtime import Runtime

from .stock import Counting, CountingBatch, stock_app

PARTITIONS = 3
TOPIC = "order.created"


def fetched(count: int, codec: Codec) -> list[Message]:
    """``count`` events as librdkafka hands them over, in offset order per partition."""
    now = datetime.now(timezone.utc)
    messages, offsets = [], [0] * PARTITIONS
    for i in range(count):
        m = to_message(OrderCreated(order_id=i, at=now), "", "preload", codec=codec)
        key = (m.key or "").encode()
        partition = i % PARTITIONS
        messages.append(Message(topic=TOPIC, partition=partition, offset=offsets[partition], key=key,
                                value=m.value, headers=[(k, v.encode()) for k, v in m.headers.items()]))
        offsets[partition] += 1
    return messages


class FakeConsumer:
    """What the plugin asks of librdkafka's consumer, served from a list; commits recorded."""

    def __init__(self, messages: list[Message]) -> None:
        self.messages, self.next = messages, 0
        self.committed: dict[tuple[str, int], int] = {}

    def subscribe(self, topics: list[str], on_assign: Any, on_revoke: Any, on_lost: Any) -> None:
        on_assign(self, [TopicPartition(TOPIC, p) for p in range(PARTITIONS)])

    def poll(self, timeout: float) -> Message | None:
        if self.next >= len(self.messages):
            time.sleep(timeout)
            return None
        self.next += 1
        return self.messages[self.next - 1]

    def consume(self, num_messages: int = 1, timeout: float = -1) -> list[Message]:
        end = min(len(self.messages), self.next + num_messages)
        taken, self.next = self.messages[self.next:end], end
        return taken

    def commit(self, offsets: list[TopicPartition], asynchronous: bool = True) -> None:
        self.committed.update({(tp.topic, tp.partition): tp.offset for tp in offsets})

    def get_watermark_offsets(self, partition: TopicPartition, cached: bool = False) -> tuple[int, int]:
        return 0, len(self.messages)

    def position(self, partitions: list[TopicPartition]) -> list[TopicPartition]:
        return partitions

    def pause(self, partitions: list[TopicPartition]) -> None:
        return None

    def resume(self, partitions: list[TopicPartition]) -> None:
        return None

    def unsubscribe(self) -> None:
        return None

    def assignment(self) -> list[TopicPartition]:
        return []

    def close(self) -> None:
        return None


class FakeTopics:
    creates = False

    def ensure(self, subscriptions: Any, timeout: float) -> None:
        return None

    def missing(self, subscriptions: Any, timeout: float) -> list[str]:
        return []


def run(count: int, workers: int, batch: int, codec: Codec) -> float:
    """CPU seconds per message: Spine's consumer (``workers`` > 0) or the conversion and chain inline."""
    messages = fetched(count, codec)
    handler = CountingBatch(count) if batch else Counting(count)
    app, options = stock_app(handler, "localhost:1", "cpu", "", max_batch=batch or 100)
    subscriptions = Runtime(app, options.with_env()).subscriptions
    if not workers:
        deliver = subscriptions[0].deliver
        started = time.process_time()
        for m in messages:
            deliver(kafka_consumer.incoming(m, m.partition() or 0, m.offset() or 0))
        return (time.process_time() - started) / count
    fake = FakeConsumer(messages)
    setattr(kafka_consumer, "RdKafkaConsumer", lambda config: fake)  # noqa: B010 # the stand-in
    consumer = kafka_consumer.Consumer(
        {"group.id": "cpu"}, subscriptions, None, FakeTopics(),  # type: ignore[arg-type]
        workers=workers, max_pending=1000, settle_timeout=1, revoke_timeout=1, redelivery_delay=1,
    )
    started = time.process_time()
    consumer.start()
    if not handler.done.wait(300):
        raise SystemExit(f"only {handler.seen} of {count} messages handled")
    spent = time.process_time() - started
    consumer.stop(time.monotonic() + 5)
    consumer.join()
    if sum(fake.committed.values()) != count:
        raise SystemExit(f"committed {fake.committed}, not all {count} messages")
    return spent / count


def main() -> None:
    count, workers, batch = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    codecs: dict[str, Codec] = {"json": JSON, "msgpack": MSGPACK}
    codec = codecs[sys.argv[4] if len(sys.argv) > 4 else "json"]
    print(json.dumps({"cpu_us_per_message": round(run(count, workers, batch, codec) * 1e6, 2)}))


if __name__ == "__main__":
    main()
