"""Retries and dead letters on Kafka: the reason on the wire, the offsets committed, consumption going on."""

from __future__ import annotations

import threading

from confluent_kafka import Consumer, Producer, TopicPartition

from spine_core import BrokerOptions, Options, ReadOptions, RetryOptions, Spine, WriteOptions
from spine_core.event import encode
from spine_core.testing import wait_until

from .support import StartApp, Tick, headers_of, read_topic, ticks, unique


def consumer_options(prefix: str, group: str, attempts: int) -> Options:
    retry = RetryOptions(attempts=attempts, initial_delay=0.01, max_delay=0.05)
    return Options(http=None, broker=BrokerOptions(
        topic_prefix=prefix, read=ReadOptions(group_id=group, retry=retry), write=WriteOptions(),
    ))


def committed(bootstrap: str, group: str, topic: str, partitions: int = 3) -> dict[int, int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        offsets = consumer.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)
        return {tp.partition: tp.offset for tp in offsets if tp.offset >= 0}
    finally:
        consumer.close()


def test_failing_handler_retried_then_dead_lettered(kafka_app: StartApp, kafka_bootstrap_servers: str) -> None:
    """A handler that always fails is called ``attempts`` times; the message is copied to
    ``<topic>.dlq`` with its key, value and headers plus the reason, and its offset is committed."""
    prefix, group = unique("dlq") + ".", unique("g")
    calls: list[int] = []

    def always_fails(event: Tick) -> None:
        calls.append(event.n)
        raise RuntimeError(f"no stock for {event.n}")

    app = Spine()
    app.consumers().register("tick", always_fails)
    kafka_app(app, consumer_options(prefix, group, attempts=3)).wait_ready()
    [event] = ticks(1)
    producer = Producer({"bootstrap.servers": kafka_bootstrap_servers})
    producer.produce(prefix + "tick", encode(event), key=b"k0", headers=[("event-name", b"tick"), ("trace", b"t-1")])
    producer.flush(10)

    [dead] = read_topic(kafka_bootstrap_servers, prefix + "tick.dlq", 1)
    assert calls == [0, 0, 0]
    assert (dead.key(), dead.value()) == (b"k0", encode(event))
    headers = headers_of(dead)
    assert headers["trace"] == "t-1" and headers["event-name"] == "tick"
    assert headers["dead-letter-error-type"] == "RuntimeError"
    assert headers["dead-letter-error-message"] == "no stock for 0"
    assert headers["dead-letter-attempts"] == "3"
    assert headers["dead-letter-original-topic"] == prefix + "tick"
    assert headers["dead-letter-original-offset"] == "0"
    partition = int(headers["dead-letter-original-partition"])
    wait_until(lambda: committed(kafka_bootstrap_servers, group, prefix + "tick").get(partition) == 1,
               10, "the dead-lettered message's offset to be committed")


def test_poison_payload_dead_lettered_while_later_messages_handled(
    kafka_app: StartApp, kafka_bootstrap_servers: str
) -> None:
    """An undecodable payload goes to ``<topic>.dlq`` at once; the messages after it on the same
    partition (same key) are handled, and everything is committed."""
    prefix, group = unique("poison") + ".", unique("g")
    handled: list[int] = []
    done = threading.Event()

    def on_tick(event: Tick) -> None:
        handled.append(event.n)
        if len(handled) == 5:
            done.set()

    app = Spine()
    app.consumers().register("tick", on_tick)
    kafka_app(app, consumer_options(prefix, group, attempts=3)).wait_ready()
    producer = Producer({"bootstrap.servers": kafka_bootstrap_servers})
    producer.produce(prefix + "tick", b'{"n": "not a number"', key=b"same")
    for event in ticks(5):
        producer.produce(prefix + "tick", encode(event), key=b"same")
    producer.flush(10)

    assert done.wait(30), f"handled {handled}"
    assert handled == [0, 1, 2, 3, 4]
    [dead] = read_topic(kafka_bootstrap_servers, prefix + "tick.dlq", 1)
    assert dead.value() == b'{"n": "not a number"'
    assert headers_of(dead)["dead-letter-attempts"] == "0"
    partition = int(headers_of(dead)["dead-letter-original-partition"])
    wait_until(lambda: committed(kafka_bootstrap_servers, group, prefix + "tick").get(partition) == 6,
               10, "all six offsets to be committed")
