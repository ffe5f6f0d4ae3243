"""Client configuration: the plugin's settings split into librdkafka properties per client.

``BrokerConfig.settings`` holds librdkafka properties (``SPINE_KAFKA_<KEY>`` in the
environment becomes ``<key>`` lowercased with ``_`` → ``.``). A key is routed by prefix:

- ``producer.<property>``: the producer only (e.g. ``producer.compression.type``);
- ``consumer.<property>``: the consumers only (e.g. ``consumer.session.timeout.ms``);
- ``<property>``: every client (``bootstrap.servers``, ``security.protocol``, ``sasl.*``, ``ssl.*``);
- the plugin's own keys (:data:`PLUGIN_KEYS`) are never passed to librdkafka.

A prefixed key wins over the same unprefixed one; both win over Spine's defaults.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from typing import Any, Final

from attrs import field, frozen

from spine_core.broker import BootError, Outage, SettingsReader, protect, shown_settings

PLUGIN_KEYS: Final = frozenset({"partitions", "replication.factor", "create.topics", "workers", "max.pending"})
"""Settings of the plugin itself, not librdkafka properties."""

DEFAULT_BOOTSTRAP: Final = "localhost:9092"

PRODUCER_DEFAULTS: Final[Mapping[str, Any]] = {
    "enable.idempotence": True,
    "acks": "all",
    "linger.ms": 0,
    "max.in.flight.requests.per.connection": 1,
}
"""No batching delay: a lone publish is sent at once and waits only for the broker's round trip.
One produce request in flight per broker: what is published while it is out goes in the next one,
so under load requests fill by themselves (at c=16 on Tansu 1.5-1.9 messages per request instead
of 1.2, and less broker CPU per message); librdkafka's 5 would send each as it comes."""

CONSUMER_DEFAULTS: Final[Mapping[str, Any]] = {
    "enable.auto.commit": False,
    "enable.auto.offset.store": False,
    "auto.offset.reset": "earliest",
    "fetch.wait.max.ms": 10,
}
"""Offsets are committed by the plugin; a new group starts at the beginning of its topics;
a fetch waits at most 10 ms for data (librdkafka's 500 ms adds latency on brokers that
hold a fetch: Tansu answers after about half the wait, so 10 ms gives ~7 ms end to end)."""

SPINE_OWNED: Final = frozenset({"enable.auto.commit", "enable.auto.offset.store", "group.id"})
"""Consumer properties the plugin's delivery guarantees depend on: not overridable."""


@frozen
class KafkaSettings:
    """The plugin's settings, parsed: librdkafka properties per client and its own options."""

    common: Mapping[str, str] = field(repr=shown_settings)
    producer: Mapping[str, str] = field(repr=shown_settings)
    consumer: Mapping[str, str] = field(repr=shown_settings)
    partitions: int = 3
    replication_factor: int = -1
    create_topics: bool = True
    workers: int = 8
    max_pending: int = 1000

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> KafkaSettings:
        """Split ``settings``; raises BootError for a bad value of the plugin's own keys."""
        protect(settings)  # sasl.password and the like: done by the core too, and here for plugins made directly
        common: dict[str, str] = {}
        producer: dict[str, str] = {}
        consumer: dict[str, str] = {}
        own: dict[str, str] = {}
        for key, value in settings.items():  # librdkafka takes str, int and bool values alike
            if key in PLUGIN_KEYS:
                own[key] = str(value)
            elif key.startswith("producer."):
                producer[key[len("producer."):]] = value
            elif key.startswith("consumer."):
                consumer[key[len("consumer."):]] = value
            else:
                common[key] = value
        fixed = SPINE_OWNED & (set(common) | set(consumer))
        if fixed:
            raise BootError(f"kafka settings {sorted(fixed)} are set by Spine (group id: SPINE_KAFKA_GROUP_ID)")
        read = SettingsReader("kafka", own)
        return cls(
            common, producer, consumer,
            partitions=read.integer("partitions", 3, minimum=1),
            replication_factor=read.integer("replication.factor", -1, minimum=-1),
            create_topics=read.flag("create.topics", True),
            workers=read.integer("workers", 8, minimum=1),
            max_pending=read.integer("max.pending", 1000, minimum=1),
        )

    @classmethod
    def parse(cls, settings: Mapping[str, str]) -> KafkaSettings:
        """Deprecated name of :meth:`from_settings` (the name every broker's settings use)."""
        warnings.warn("KafkaSettings.parse is now KafkaSettings.from_settings", DeprecationWarning, stacklevel=2)
        return cls.from_settings(settings)

    def producer_config(self, publish_timeout: float) -> dict[str, Any]:
        """Producer properties; an unconfirmed message expires after ``publish_timeout``."""
        timeout_ms = max(1, int(publish_timeout * 1000))
        return {
            **PRODUCER_DEFAULTS,
            "message.timeout.ms": timeout_ms,
            "bootstrap.servers": DEFAULT_BOOTSTRAP,
            **self.common,
            **self.producer,
            "logger": logging.getLogger("spine.kafka.producer"),
        }

    def consumer_config(self, group_id: str) -> dict[str, Any]:
        """Consumer properties for a member of ``group_id``."""
        return {
            **CONSUMER_DEFAULTS,
            "bootstrap.servers": DEFAULT_BOOTSTRAP,
            **self.common,
            **self.consumer,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "group.id": group_id,
            "logger": logging.getLogger("spine.kafka.consumer"),
        }

    def admin_config(self) -> dict[str, Any]:
        """AdminClient properties (topic creation, health)."""
        return {
            "bootstrap.servers": DEFAULT_BOOTSTRAP,
            **self.common,
            "logger": logging.getLogger("spine.kafka.admin"),
        }


class ClientLog:
    """The ``logger`` of a librdkafka client: its failed connections go to ``outage`` (one account
    of a cluster that is away), everything else to the logger ``name``. confluent-kafka calls
    ``logger.log(level, "%s [%s] %s", facility, client, text)``."""

    def __init__(self, outage: Outage, name: str) -> None:
        self._outage = outage
        self._logger = logging.getLogger(name)

    def log(self, level: int, msg: str, *args: Any) -> None:
        if len(args) == 3 and args[0] == "FAIL" and level >= logging.ERROR:
            self._outage.down(str(args[2]))
        else:
            self._logger.log(level, msg, *args)
