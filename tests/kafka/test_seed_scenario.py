"""The seed over Kafka: the order and stock services as two processes, with a topic prefix."""

from __future__ import annotations

import json
import urllib.request

from .support import ServiceProcess, headers_of, kafka_env, read_topic, unique


def test_order_reaches_stock_as_two_processes(kafka_bootstrap_servers: str) -> None:
    """POST /orders/12345 answers OK once Kafka confirmed the event; the stock process logs the seed's
    lines; the event is on ``<prefix>order.created`` keyed by the order id; both exit 0 on SIGTERM."""
    prefix = unique("seed") + "."
    env = kafka_env(
        kafka_bootstrap_servers, SPINE_KAFKA_TOPIC_PREFIX=prefix, SPINE_KAFKA_GROUP_ID=unique("stock"),
        SPINE_ADDRESS="127.0.0.1:0",
    )
    stock = ServiceProcess(["-m", "apps.stock_app"], env)
    orders = ServiceProcess(["-m", "apps.order_app"], env)
    try:
        stock.wait_for(rf"assigned .*{prefix}order\.created")
        request = urllib.request.Request(f"http://127.0.0.1:{orders.http_port()}/orders/12345", method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            assert (response.status, response.read()) == (200, b"OK")
        stock.wait_for("Kafka Event: order.created")
        stock.wait_for("OrderID: 12345")
        [message] = read_topic(kafka_bootstrap_servers, prefix + "order.created", 1)
        assert message.key() == b"12345"
        assert json.loads(message.value() or b"")["order_id"] == 12345
        assert headers_of(message)["event-name"] == "order.created"
        assert orders.terminate() == 0
        assert stock.terminate() == 0
    finally:
        orders.kill()
        stock.kill()
