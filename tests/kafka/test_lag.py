"""``spine_consumer_lag`` on Kafka: unsettled messages per assigned partition, from the client's cache."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from spine_core.messages import ACK, IncomingMessage, OutgoingMessage, Settlement, Subscription
from spine_core.options import BrokerConfig, ReadOptions, WriteOptions
from spine_core.testing import wait_until
from spine_kafka import KafkaPlugin

from .support import unique


def test_lag_counts_unsettled_messages_then_drops_to_zero(kafka_settings: dict[str, str]) -> None:
    """Five same-key messages behind a blocked handler are a lag of 5 on their partition (and none
    elsewhere); 0 once handled."""
    topic, group = unique("lag"), unique("g")
    plugin = KafkaPlugin(BrokerConfig(name="kafka", write=WriteOptions(), read=ReadOptions(group_id=group),
                                      settings=kafka_settings))
    plugin.spine_broker_start()
    release = threading.Event()

    def lags() -> Mapping[tuple[str, int], int]:
        return plugin.spine_consumer_lag() or {}

    def deliver(message: IncomingMessage) -> Settlement:
        release.wait(30)
        return ACK

    try:
        plugin.spine_subscribe(group_id=group, subscriptions=[Subscription(topic, deliver)])
        wait_until(lambda: plugin.spine_broker_health().ready, 30, "the consumer's assignment")
        plugin.spine_publish([OutgoingMessage(topic, b"x", "same") for _ in range(5)], timeout=10)
        wait_until(lambda: 5 in lags().values(), 10, "a lag of 5")
        assert set(lags()) <= {(topic, p) for p in range(3)}
        assert sum(lags().values()) == 5
        release.set()
        wait_until(lambda: set(lags().values()) == {0}, 10, "no lag")
    finally:
        release.set()
        plugin.spine_broker_close(timeout=5)
