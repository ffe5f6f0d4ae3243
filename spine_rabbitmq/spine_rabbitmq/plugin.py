"""The ``rabbitmq`` broker plugin: Spine's hooks over a confirming publisher and a consumer."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence

from spine_core.broker import (
    BootError, BrokerConfig, Health, OutgoingMessage, ReadOptions, StoredDeadLetter, Subscription, WriteOptions,
    error_text, hookimpl, redact,
)

from . import dlq
from .config import RabbitMQSettings
from .consumer import Consumer
from .publisher import Publisher

if logging.getLogger("pika").level == logging.NOTSET:
    logging.getLogger("pika").setLevel(logging.WARNING)  # pika narrates every socket at INFO
if logging.getLogger("pika.adapters").level == logging.NOTSET:
    # ... and every failed connection attempt in eight ERROR lines: the plugin's ConnectionLoop
    # reports an outage itself (the toolkit's Outage: one line, reminders, one line when back).
    logging.getLogger("pika.adapters").setLevel(logging.CRITICAL)

START_TIMEOUT = 5.0
"""Seconds ``start`` and ``subscribe`` wait for RabbitMQ before going on in the background."""
LAG_TIMEOUT = 0.5
"""Seconds a metrics scrape waits for RabbitMQ's queue counts."""


class RabbitMQPlugin:
    """One service process's connections to RabbitMQ: one for publishing, one for consuming."""

    def __init__(self, config: BrokerConfig) -> None:
        self.config = config
        self.settings = RabbitMQSettings.from_settings(config.settings)
        self.publisher = Publisher(self.settings)
        self.consumer: Consumer | None = None
        self._dead_letter_timeout = (config.write or WriteOptions()).publish_timeout

    @hookimpl
    def spine_broker_start(self) -> None:
        if self.config.write is None and self.config.read is None:
            return
        self.publisher.start()  # consumers publish their dead letters through it too
        loop = self.publisher.loop
        loop.attempted.wait(START_TIMEOUT)
        if loop.fatal is not None:
            self.publisher.close(1.0)
            raise BootError(f"RabbitMQ refused the connection to {self.settings.shown_url}: {error_text(loop.fatal)}")

    @hookimpl
    def spine_publish(self, messages: Sequence[OutgoingMessage], timeout: float) -> None:
        self.publisher.publish(messages, timeout)

    @hookimpl
    def spine_subscribe(self, group_id: str, subscriptions: Sequence[Subscription]) -> None:
        read = self.config.read or ReadOptions(group_id=group_id)
        self.consumer = Consumer(self.settings, group_id, subscriptions, self._dead_letter,
                                 read.dead_letter_suffix, read.redelivery_delay)
        self.consumer.start(START_TIMEOUT)

    @hookimpl
    def spine_broker_health(self) -> Health:
        problems = []
        if self.publisher.started and not self.publisher.ready:
            problems.append(f"publisher not connected ({self.publisher.loop.last_error})")
        if self.consumer is not None and not self.consumer.consuming:
            problems.append(f"consumer not consuming ({self.consumer.last_error})")
        if problems:
            return Health(False, redact("; ".join(problems)))
        return Health(True, f"RabbitMQ {self.settings.parameters().host}, exchange {self.settings.exchange!r}")

    @hookimpl
    def spine_consumer_lag(self) -> Mapping[tuple[str, int], int] | None:
        """Messages ready in this group's queues, by ``(topic, 0)`` (a queue has no partitions)."""
        if self.consumer is None or not self.consumer.consuming:
            return None
        return self.consumer.lag(LAG_TIMEOUT)

    @hookimpl
    def spine_broker_close(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        if self.consumer is not None:
            self.consumer.close(timeout)
        if self.publisher.started:
            self.publisher.close(max(0.1, deadline - time.monotonic()))

    @hookimpl
    def spine_dlq_list(self, topic: str, timeout: float) -> Sequence[StoredDeadLetter]:
        return dlq.list_waiting(self.settings, topic, timeout)

    @hookimpl
    def spine_dlq_replay(
        self, topic: str, event_ids: Sequence[str] | None, timeout: float
    ) -> Sequence[StoredDeadLetter]:
        return dlq.replay(self.settings, self.publisher, topic, event_ids, timeout)

    def _dead_letter(self, message: OutgoingMessage) -> None:
        self.publisher.publish([message], self._dead_letter_timeout)
