"""Topic creation: a topic the plugin publishes to or subscribes is created if missing.

Kafka clusters differ: some create topics on first use (Tansu does, with its own
partition count; a consumer's subscription never does), managed ones usually refuse.
The plugin therefore creates every topic it uses with ``partitions`` partitions and
``replication.factor`` (-1: the broker's default), once per topic per process; an
existing topic is left as it is. ``create.topics=false`` turns this off.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from spine_core.broker import Outage

from .config import ClientLog

SETTLE_TIME = 5.0
"""Connection failures this soon after the cluster answered again are the last clients' stale
attempts, not a new outage (each client retries on its own backoff)."""


class TopicError(Exception):
    """A topic could not be created (or its creation not confirmed in time)."""


class Topics:
    """Creates missing topics; remembers those known to exist. Thread-safe."""

    def __init__(
        self, admin_config: dict[str, Any], partitions: int, replication_factor: int, enabled: bool,
        outage: Outage | None = None,
    ) -> None:
        self.outage = outage or Outage("kafka cluster", logging.getLogger("spine.kafka"), level=logging.ERROR,
                                       settle=SETTLE_TIME)
        """What every client of the plugin saw of the cluster: one log line when it goes away."""
        config: dict[str, Any] = {**admin_config, "logger": ClientLog(self.outage, "spine.kafka.admin")}
        self._admin = AdminClient(config)
        self._partitions = partitions
        self._replication_factor = replication_factor
        self._enabled = enabled
        self._known: set[str] = set()
        self._lock = threading.Lock()

    def ensure(self, topics: Iterable[str], timeout: float) -> None:
        """Make sure ``topics`` exist; raises TopicError within about ``timeout`` seconds."""
        if not self._enabled:
            return
        known = self._known  # only ever grows: a topic seen in it exists, no lock needed to read it
        missing = sorted({t for t in topics if t not in known})
        if not missing:
            return
        deadline = time.monotonic() + timeout
        futures = self._admin.create_topics(
            [NewTopic(t, self._partitions, self._replication_factor) for t in missing],
            request_timeout=max(0.1, timeout),
        )
        for topic, future in futures.items():
            try:
                future.result(timeout=max(0.0, deadline - time.monotonic()))
            except FutureTimeout:
                raise TopicError(f"creating topic {topic!r} not confirmed within {timeout:.1f}s") from None
            except KafkaException as e:
                error: KafkaError = e.args[0]
                if error.code() != KafkaError.TOPIC_ALREADY_EXISTS:
                    raise TopicError(f"cannot create topic {topic!r}: {error.str()}") from None
            with self._lock:
                self._known.add(topic)

    @property
    def creates(self) -> bool:
        """Whether missing topics are created (``create.topics``)."""
        return self._enabled

    def missing(self, topics: Iterable[str], timeout: float) -> list[str]:
        """Which of ``topics`` the cluster does not have (e.g. a restarted broker that lost them);
        they are forgotten, so that the next ``ensure`` creates them again. Raises KafkaException."""
        existing = self._metadata(timeout).topics
        gone = sorted(t for t in set(topics) if t not in existing)
        self.forget(gone)
        return gone

    def forget(self, topics: Iterable[str]) -> None:
        """Check ``topics`` again at the next ``ensure``."""
        with self._lock:
            self._known.difference_update(topics)

    def reachable(self, timeout: float) -> str | None:
        """None when the cluster answers a metadata request within ``timeout``, else why not."""
        try:
            self._metadata(timeout)
        except KafkaException as e:
            return str(e.args[0].str())
        return None

    def _metadata(self, timeout: float) -> Any:
        """The cluster's metadata; the outage learns whether the cluster answered."""
        try:
            metadata = self._admin.list_topics(timeout=timeout)
        except KafkaException as e:
            if not self.outage.away:  # else keep what the clients saw ("SSL handshake failed: ..."), not the
                self.outage.down(e.args[0].str())  # generic "Broker transport failure" of this request
            raise
        self.outage.up()
        return metadata
