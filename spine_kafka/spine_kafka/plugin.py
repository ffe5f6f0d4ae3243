"""The ``kafka`` broker plugin: Spine's hooks over confluent-kafka."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from confluent_kafka import KafkaException

from spine_core.broker import (
    BootError, BrokerConfig, Health, OutgoingMessage, PublishError, StoredDeadLetter, Subscription, dlq_markers,
    hookimpl,
)

from .config import ClientLog, KafkaSettings
from .publisher import Publisher
from .topics import Topics

if TYPE_CHECKING:  # the consumer and the dead-letter tools are imported when used: a publishing
    from .consumer import Consumer  # service does without them

DEFAULT_PUBLISH_TIMEOUT = 10.0
"""How long dead-lettering waits for confirmation in an app without write options."""

HEALTH_TIMEOUT = 0.5
DLQ_GROUP = "spine-dlq"
"""The group id of the consumer that reads dead-letter topics; it never joins nor commits."""


class KafkaPlugin:
    """One service process's connection to a Kafka cluster: one producer, shared by every
    request thread and by dead-lettering, and one consumer group member per subscription call."""

    def __init__(self, config: BrokerConfig) -> None:
        self.config = config
        self.settings = KafkaSettings.from_settings(config.settings)
        self._publish_timeout = config.write.publish_timeout if config.write else DEFAULT_PUBLISH_TIMEOUT
        self._topics: Topics | None = None
        self._producer: Publisher | None = None
        self._consumers: list[Consumer] = []

    @hookimpl
    def spine_broker_start(self) -> None:
        s = self.settings
        self._topics = Topics(s.admin_config(), s.partitions, s.replication_factor, s.create_topics)
        logger = ClientLog(self._topics.outage, "spine.kafka.producer")
        self._producer = Publisher({**s.producer_config(self._publish_timeout), "logger": logger}, self._topics)

    @hookimpl
    def spine_broker_health(self) -> Health:
        if self._topics is None or self._producer is None:
            return Health(False, "kafka plugin not started")
        if self._producer.fatal is not None:
            return Health(False, f"kafka producer failed: {self._producer.fatal}")
        try:
            missing = self._topics.missing([t for c in self._consumers for t in c.topics], HEALTH_TIMEOUT)
        except KafkaException as e:
            seen = self._topics.outage.error  # what the clients saw, e.g. "SSL handshake failed: ..."
            return Health(False, f"kafka unreachable: {e.args[0].str()}" + (f" ({seen})" if seen else ""))
        if missing:
            again = ", being created again" if self._topics.creates else ""
            return Health(False, f"kafka topic(s) missing{again}: {', '.join(missing)}")
        members = [c.health() for c in self._consumers]
        detail = "; ".join(text for _, text in members)
        return Health(all(ready for ready, _ in members), detail or "kafka reachable")

    @hookimpl
    def spine_broker_close(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        consumers, self._consumers = self._consumers, []
        for consumer in consumers:
            consumer.stop(deadline)
        for consumer in consumers:
            consumer.join()
        if self._producer is not None:
            self._producer.close(max(0.0, deadline - time.monotonic()))

    @hookimpl
    def spine_consumer_lag(self) -> Mapping[tuple[str, int], int] | None:
        if not self._consumers:
            return None
        lags: dict[tuple[str, int], int] = {}
        for consumer in self._consumers:
            lags.update(consumer.lag())
        return lags

    @hookimpl
    def spine_publish(self, messages: Sequence[OutgoingMessage], timeout: float) -> None:
        if self._producer is None:
            raise PublishError("kafka plugin not started")
        self._producer.send(messages, timeout)

    @hookimpl
    def spine_subscribe(self, group_id: str, subscriptions: Sequence[Subscription]) -> None:
        if self._producer is None or self._topics is None:
            raise BootError("kafka: spine_subscribe before spine_broker_start")
        from .consumer import Consumer

        s = self.settings
        consumer = Consumer(
            {**s.consumer_config(group_id), "logger": ClientLog(self._topics.outage, "spine.kafka.consumer")},
            subscriptions, self._producer, self._topics,
            workers=s.workers, max_pending=s.max_pending,
            settle_timeout=self._publish_timeout, revoke_timeout=self.config.shutdown_timeout,
            redelivery_delay=self.config.read.redelivery_delay if self.config.read else 1.0,
        )
        consumer.start()
        self._consumers.append(consumer)

    @hookimpl
    def spine_dlq_list(self, topic: str, timeout: float) -> Sequence[StoredDeadLetter]:
        from . import dlq

        return dlq_markers.waiting(dlq.read(self.settings.consumer_config(DLQ_GROUP), topic, timeout))

    @hookimpl
    def spine_dlq_replay(
        self, topic: str, event_ids: Sequence[str] | None, timeout: float
    ) -> Sequence[StoredDeadLetter]:
        if self._producer is None:
            raise PublishError("kafka plugin not started")
        from . import dlq

        return dlq.replay(self.settings.consumer_config(DLQ_GROUP), self._producer, topic, event_ids, timeout)
