"""Helpers of the Kafka tests: unique names, a raw confluent-kafka reader, service processes' environment."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from attrs import frozen
from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, TopicPartition

from spine_core.broker import text_headers
from spine_kafka.tansu import TANSU_CONSUMER_SETTINGS

if TYPE_CHECKING:  # the services' own processes import this module without the tests' folder
    from broker_checks import ServiceProcess

StartApp = Callable[..., Any]
"""The ``kafka_app`` fixture: ``kafka_app(app, options, **settings) -> Started``."""
DEADLINE = 30.0


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


@frozen
class Tick:
    """The event of the stream tests: ``n`` numbers it, ``key_`` spreads it over partitions."""

    n: int
    key_: str
    at: datetime

    def name(self) -> str:
        return "tick"

    def occurred_at(self) -> datetime:
        return self.at

    def key(self) -> str:
        return self.key_


def ticks(count: int, keys: int = 12) -> list[Tick]:
    now = datetime.now(timezone.utc)
    return [Tick(n, f"k{n % keys}", now) for n in range(count)]


def read_topic(bootstrap: str, topic: str, count: int, timeout: float = DEADLINE) -> list[Message]:
    """The first ``count`` messages of ``topic`` (all partitions), read without a consumer group."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("raw"), "enable.auto.commit": False})
    try:
        deadline = time.monotonic() + timeout
        while True:
            metadata = consumer.list_topics(topic, timeout=5).topics.get(topic)
            if metadata is not None and metadata.error is None and metadata.partitions:
                break
            assert time.monotonic() < deadline, f"topic {topic} does not exist"
            time.sleep(0.1)
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in metadata.partitions])
        messages: list[Message] = []
        while len(messages) < count and time.monotonic() < deadline:
            for m in consumer.consume(count - len(messages), timeout=0.2):
                assert m.error() is None, m.error()
                messages.append(m)
        assert len(messages) >= count, f"{topic}: {len(messages)} of {count} message(s) within {timeout}s"
        return messages
    finally:
        consumer.close()


def headers_of(message: Message) -> dict[str, str]:
    return text_headers(message.headers())


def kafka_env(bootstrap: str, **spine: str) -> dict[str, str]:
    """The ``SPINE_*`` environment of a service process on the test broker (``broker_checks.ServiceProcess``)."""
    env = {"SPINE_BROKER": "kafka", "SPINE_KAFKA_BOOTSTRAP_SERVERS": bootstrap}
    for key, value in TANSU_CONSUMER_SETTINGS.items():
        env["SPINE_KAFKA_" + key.upper().replace(".", "_")] = value
    env.update(spine)
    return env


def assignment(service: ServiceProcess) -> set[str] | None:
    """The partitions a service's consumer holds now, per its last ``assigned``/``revoked`` line."""
    events = re.findall(r"kafka group \S+: (assigned|revoked) (.*)", service.output)
    if not events or events[-1][0] != "assigned":
        return None
    return set(events[-1][1].split(", "))
