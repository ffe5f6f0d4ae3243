"""The ``redis`` broker plugin: Spine's hooks over Redis Streams (redis-py)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import redis

from spine_core.broker import (
    BrokerConfig, Health, OutgoingMessage, StoredDeadLetter, Subscription, WriteOptions, hookimpl, redact,
)

from . import dlq
from .config import RedisSettings
from .consumer import Consumer
from .publisher import Publisher

START_TIMEOUT = 5.0
"""Seconds ``subscribe`` waits for the consumer groups before going on in the background."""
PROBE_TIMEOUT = 0.25
"""Seconds a health check or a metrics scrape waits to connect and for an answer (tried twice:
a pooled connection may be stale), so a health check answers within a second."""


class RedisPlugin:
    """One service process's clients: a publisher (shared with nobody else) and one consumer
    group member per ``spine_subscribe`` call."""

    def __init__(self, config: BrokerConfig) -> None:
        self.config = config
        self.settings = RedisSettings.from_settings(config.settings)
        self._publish_timeout = (config.write or WriteOptions()).publish_timeout
        self.publisher = Publisher(self.settings, self._publish_timeout)
        self.consumers: list[Consumer] = []
        self._probe = self.settings.client(PROBE_TIMEOUT)

    @hookimpl
    def spine_publish(self, messages: Sequence[OutgoingMessage], timeout: float) -> None:
        self.publisher.publish(messages, timeout)

    @hookimpl
    def spine_subscribe(self, group_id: str, subscriptions: Sequence[Subscription]) -> None:
        delay = self.config.read.redelivery_delay if self.config.read else 1.0
        consumer = Consumer(self.settings, group_id, subscriptions, self._dead_letter, delay)
        self.consumers.append(consumer)
        consumer.start(START_TIMEOUT)

    @hookimpl
    def spine_broker_health(self) -> Health:
        try:
            self._probe.ping()
        except redis.RedisError as e:
            return Health(False, redact(f"Redis unreachable at {self.settings.address}: {e}"))
        stopped = [f"group member {c.name} not consuming ({c.last_error})" for c in self.consumers if not c.consuming]
        if stopped:
            return Health(False, redact("; ".join(stopped)))
        return Health(True, f"Redis {self.settings.address}")

    @hookimpl
    def spine_consumer_lag(self) -> Mapping[tuple[str, int], int] | None:
        """Entries not yet delivered to the group plus entries pending, by ``(topic, 0)``."""
        if not self.consumers:
            return None
        try:
            return {k: v for c in self.consumers for k, v in c.lag(self._probe).items()}
        except redis.RedisError:
            return None

    @hookimpl
    def spine_dlq_list(self, topic: str, timeout: float) -> Sequence[StoredDeadLetter]:
        return dlq.list_waiting(self.publisher.client, topic)

    @hookimpl
    def spine_dlq_replay(
        self, topic: str, event_ids: Sequence[str] | None, timeout: float
    ) -> Sequence[StoredDeadLetter]:
        return dlq.replay(self.publisher.client, self.publisher, topic, event_ids, timeout)

    @hookimpl
    def spine_broker_close(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        consumers, self.consumers = self.consumers, []
        for consumer in consumers:
            consumer.close(max(0.0, deadline - time.monotonic()))
        self.publisher.close()
        self._probe.close()

    def _dead_letter(self, letter: OutgoingMessage) -> None:
        self.publisher.publish([letter], self._publish_timeout)
