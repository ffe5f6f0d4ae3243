"""A message the core gives back (Nack) is fetched again after a pause, in order, and nothing after
it is committed before it."""

from __future__ import annotations

import threading
import time

from spine_core.messages import ACK, NACK, IncomingMessage, OutgoingMessage, Settlement, Subscription
from spine_core.options import BrokerConfig, ReadOptions, WriteOptions
from spine_core.testing import wait_until
from spine_kafka import KafkaPlugin

from .support import unique

DELAY = 0.5


def test_nacked_message_redelivered_in_order_after_a_pause(kafka_settings: dict[str, str]) -> None:
    """The fifth of ten same-key messages is given back once: it comes again after ReadOptions.redelivery_delay,
    followed by the ones after it, so the handled order stays the publish order."""
    topic, group = unique("nack"), unique("g")
    read = ReadOptions(group_id=group, redelivery_delay=DELAY)
    config = BrokerConfig(name="kafka", write=WriteOptions(), read=read, settings=kafka_settings)
    plugin = KafkaPlugin(config)
    plugin.spine_broker_start()
    acked: list[int] = []
    seen: list[tuple[int, float]] = []
    done = threading.Event()

    def deliver(message: IncomingMessage) -> Settlement:
        n = int(message.value)
        seen.append((n, time.monotonic()))
        if n == 4 and [s for s, _ in seen].count(4) == 1:
            return NACK
        acked.append(n)
        if len(acked) == 10:
            done.set()
        return ACK

    try:
        plugin.spine_subscribe(group_id=group, subscriptions=[Subscription(topic, deliver)])
        wait_until(lambda: plugin.spine_broker_health().ready, 30, "the consumer's assignment")
        plugin.spine_publish([OutgoingMessage(topic, str(n).encode(), "same") for n in range(10)], timeout=10)
        assert done.wait(30), f"acked {acked}"
        assert acked == list(range(10))
        first, again = [t for n, t in seen if n == 4]
        assert again - first >= DELAY * 0.9
    finally:
        plugin.spine_broker_close(timeout=5)
