"""Publishing recovers after the broker comes back without its state (Tansu restarted on its
port: no topics, no producer ids)."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

from apps.events import OrderCreated
from spine_core.broker import PublishError
from spine_core.options import BrokerConfig, WriteOptions
from spine_core.event import to_message
from spine_kafka import KafkaPlugin
from spine_kafka.tansu import Tansu, free_port

from .support import read_topic, unique

RECOVERY = 30.0
"""The issue's bound: publishing answers OK again within 30 s of the broker's return."""


def test_publishing_recovers_after_tansu_restarted_on_its_port() -> None:
    port = free_port()
    prefix = unique("restart") + "."
    config = BrokerConfig(name="kafka", topic_prefix=prefix, write=WriteOptions(publish_timeout=3.0),
                          settings={"bootstrap.servers": f"127.0.0.1:{port}"})
    plugin = KafkaPlugin(config)
    tansu = Tansu.start(port=port)
    try:
        plugin.spine_broker_start()
        now = datetime.now(timezone.utc)
        plugin.spine_publish(messages=[to_message(OrderCreated(1, now), prefix, "test")], timeout=3.0)
        tansu.stop()
        tansu = Tansu.start(port=port)
        back = time.monotonic()
        failures = []
        while True:
            try:
                plugin.spine_publish(messages=[to_message(OrderCreated(2, now), prefix, "test")], timeout=3.0)
                break
            except PublishError as e:
                failures.append(str(e))
                assert time.monotonic() - back < RECOVERY, f"no publish confirmed within {RECOVERY}s: {failures}"
        [message] = read_topic(tansu.bootstrap_servers, prefix + "order.created", 1)
        assert json.loads(message.value() or b"")["order_id"] == 2
    finally:
        plugin.spine_broker_close(timeout=2.0)
        tansu.stop()
