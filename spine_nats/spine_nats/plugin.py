"""The ``nats`` broker plugin: Spine's hooks over NATS JetStream (nats-py)."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence

from spine_core.broker import (
    BrokerConfig, Health, OutgoingMessage, StoredDeadLetter, Subscription, WriteOptions, error_text, hookimpl,
)

from . import dlq
from .config import NatsSettings
from .connection import Connection
from .consumer import Consumer
from .publisher import Publisher

if logging.getLogger("nats").level == logging.NOTSET:
    # nats-py logs each failed reconnection attempt; the plugin's Outage says it in one line instead
    logging.getLogger("nats").setLevel(logging.CRITICAL)

START_TIMEOUT = 5.0
"""Seconds ``start`` and ``subscribe`` wait for NATS before going on in the background."""
PROBE_TIMEOUT = 0.5
"""Seconds a metrics scrape waits for the consumers' pending counts."""


class NatsPlugin:
    """One service process's connection to NATS, shared by its publisher and its group member."""

    def __init__(self, config: BrokerConfig) -> None:
        self.config = config
        self.settings = NatsSettings.from_settings(config.settings)
        self._publish_timeout = (config.write or WriteOptions()).publish_timeout
        self.connection = Connection(self.settings, (config.read.group_id if config.read else "publisher"))
        self.publisher = Publisher(self.connection, self.settings)
        self.consumers: list[Consumer] = []

    @hookimpl
    def spine_broker_start(self) -> None:
        self.connection.start()
        self.connection.wait_started(START_TIMEOUT)

    @hookimpl
    def spine_publish(self, messages: Sequence[OutgoingMessage], timeout: float) -> None:
        self.publisher.publish(messages, timeout)

    @hookimpl
    def spine_subscribe(self, group_id: str, subscriptions: Sequence[Subscription]) -> None:
        delay = self.config.read.redelivery_delay if self.config.read else 1.0
        consumer = Consumer(self.connection, self.publisher, self.settings, group_id, subscriptions,
                            self._dead_letter, delay)
        self.consumers.append(consumer)
        consumer.start(START_TIMEOUT)

    @hookimpl
    def spine_broker_health(self) -> Health:
        connection = self.connection
        if not connection.connected:
            reason = connection.fatal or connection.outage.error or "connecting"
            return Health(False, f"NATS unreachable at {self.settings.address}: {reason}")
        stopped = [f"group {c.group!r} not consuming ({c.last_error})" for c in self.consumers if not c.consuming]
        if stopped:
            return Health(False, "; ".join(stopped))
        return Health(True, f"NATS JetStream {self.settings.address}")

    @hookimpl
    def spine_consumer_lag(self) -> Mapping[tuple[str, int], int] | None:
        """Messages not yet delivered to the group plus those not yet acknowledged, by ``(topic, 0)``."""
        if not self.consumers or not self.connection.connected:
            return None
        try:
            return {k: v for c in self.consumers for k, v in c.lag(PROBE_TIMEOUT).items()}
        except Exception as e:
            logging.getLogger("spine.nats").debug("no lag: %s", error_text(e))
            return None

    @hookimpl
    def spine_dlq_list(self, topic: str, timeout: float) -> Sequence[StoredDeadLetter]:
        self.connection.start()
        self.connection.wait_started(min(timeout, START_TIMEOUT))
        return dlq.list_waiting(self.connection, topic, timeout)

    @hookimpl
    def spine_dlq_replay(
        self, topic: str, event_ids: Sequence[str] | None, timeout: float
    ) -> Sequence[StoredDeadLetter]:
        self.connection.start()
        self.connection.wait_started(min(timeout, START_TIMEOUT))
        return dlq.replay(self.connection, self.publisher, topic, event_ids, timeout)

    @hookimpl
    def spine_broker_close(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        consumers, self.consumers = self.consumers, []
        for consumer in consumers:
            consumer.close(max(0.0, deadline - time.monotonic()))
        self.publisher.closed = True
        self.connection.close(max(0.5, deadline - time.monotonic()))

    def _dead_letter(self, letter: OutgoingMessage) -> None:
        self.publisher.publish([letter], self._publish_timeout)
