"""The seed over Kafka: the order and stock services as two processes, with a topic prefix."""

from __future__ import annotations

import json

from broker_checks import ServiceProcess, seed_scenario

from .support import headers_of, kafka_env, read_topic, unique


def test_order_reaches_stock_as_two_processes(kafka_bootstrap_servers: str, processes: list[ServiceProcess]) -> None:
    """POST /orders/12345 answers OK once Kafka confirmed the event; the stock process logs the seed's
    lines; the event is on ``<prefix>order.created`` keyed by the order id; both exit 0 on SIGTERM."""
    prefix = unique("seed") + "."
    env = kafka_env(
        kafka_bootstrap_servers, SPINE_KAFKA_TOPIC_PREFIX=prefix, SPINE_KAFKA_GROUP_ID=unique("stock"),
        SPINE_ADDRESS="127.0.0.1:0",
    )
    seed_scenario(processes, env, ready=rf"assigned .*{prefix}order\.created")
    [message] = read_topic(kafka_bootstrap_servers, prefix + "order.created", 1)
    assert message.key() == b"12345"
    assert json.loads(message.value() or b"")["order_id"] == 12345
    assert headers_of(message)["event-name"] == "order.created"
