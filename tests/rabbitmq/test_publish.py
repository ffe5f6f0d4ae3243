"""Publishing over RabbitMQ: routed by topic, persistent, confirmed, and 503 when it is not."""

from __future__ import annotations

import json
import time

import pytest
from pika.adapters.base_connection import BaseConnection

from spine_core import WriteOptions
from spine_core.broker import OutgoingMessage
from spine_core.errors import BootError
from spine_core.options import BrokerConfig
from spine_core.testing import wait_until

from spine_rabbitmq.config import RabbitMQSettings
from spine_rabbitmq.publisher import Publisher

from .conftest import RabbitScope
from .proxy import Proxy
from .support import client, order_service, probe_queue, take


def test_event_is_routed_by_topic_persistent_and_carries_spine_headers(rabbit: RabbitScope) -> None:
    """POST answers OK once confirmed; the message has routing key = prefix + name, delivery mode 2,
    the event as JSON and Spine's headers, the key included."""
    queue = probe_queue(rabbit)
    http = client(order_service(rabbit))
    result = http.simulate_post("/orders/7", headers={"X-Correlation-ID": "corr-7"})
    assert (result.status_code, result.text) == (200, "OK")
    [(method, props, body)] = take(rabbit, queue)
    assert method.routing_key == rabbit.prefix + "order.created"  # type: ignore[attr-defined]
    assert method.exchange == rabbit.exchange  # type: ignore[attr-defined]
    assert props.delivery_mode == 2  # type: ignore[attr-defined]
    assert props.content_type == "application/json"  # type: ignore[attr-defined]
    headers = props.headers  # type: ignore[attr-defined]
    assert headers["event-name"] == "order.created" and headers["event-key"] == "7"
    assert props.message_id == headers["event-id"]  # type: ignore[attr-defined]
    assert headers["correlation-id"] == props.correlation_id  # type: ignore[attr-defined]
    assert json.loads(body)["order_id"] == 7


def test_event_no_queue_is_bound_to_is_confirmed_and_kept(rabbit: RabbitScope) -> None:
    """An event published before any consumer group of its topic exists is confirmed (OK, never
    a 503) and kept in ``<exchange>.unrouted`` with its routing key; a shovel of that queue back
    into the exchange delivers it once a queue is bound."""
    http = client(order_service(rabbit))
    result = http.simulate_post("/orders/8")
    assert (result.status_code, result.text) == (200, "OK")
    [(method, props, body)] = take(rabbit, rabbit.exchange + ".unrouted")
    assert method.routing_key == rabbit.prefix + "order.created"  # type: ignore[attr-defined]
    assert props.headers["event-key"] == "8"  # type: ignore[attr-defined]
    assert json.loads(body)["order_id"] == 8


def test_unrouted_off_is_503(rabbit: RabbitScope) -> None:
    """With ``unrouted=false`` RabbitMQ returns an event no queue is bound to: 503, never OK."""
    rabbit.exchange += "-strict"  # an exchange declared without the alternate exchange
    http = client(order_service(rabbit, unrouted="false"))
    result = http.simulate_post("/orders/8")
    assert result.status_code == 503
    assert "no queue is bound to routing key" in result.json["message"]


def test_broker_down_is_503_within_the_timeout_then_publishing_recovers(rabbit: RabbitScope, proxy: Proxy) -> None:
    """While RabbitMQ is unreachable POST answers 503 within the publish timeout and readiness
    says why; once it is back the publisher reconnects and POST is OK again."""
    queue = probe_queue(rabbit)
    service = order_service(rabbit, publish_timeout=1.5, url=proxy.url())
    http = client(service)
    assert http.simulate_post("/orders/1").text == "OK"

    proxy.cut()
    wait_until(lambda: not service.runtime.health().ready, 5, "readiness to report the outage")
    assert "publisher not connected" in service.runtime.health().detail
    started = time.monotonic()
    result = http.simulate_post("/orders/2")
    elapsed = time.monotonic() - started
    assert result.status_code == 503, result.text
    assert 1.4 < elapsed < 3.5, f"503 after {elapsed:.2f}s with a 1.5s publish timeout"

    proxy.restore()
    wait_until(lambda: service.runtime.health().ready, 15, "the publisher to reconnect")
    assert http.simulate_post("/orders/3").text == "OK"
    assert [json.loads(body)["order_id"] for _, _, body in take(rabbit, queue)] == [1, 3]


def test_wrong_credentials_are_a_boot_error(rabbit: RabbitScope) -> None:
    """Credentials RabbitMQ refuses stop the app at boot instead of retrying forever."""
    plugin = rabbit.plugin(BrokerConfig(name="rabbitmq", write=WriteOptions(),
                                        settings={"url": "amqp://guest:wrong@127.0.0.1:5672/"}))
    with pytest.raises(BootError, match="RabbitMQ refused the connection"):
        plugin.spine_broker_start()


def test_a_batch_is_written_at_once_and_arrives_in_order(rabbit: RabbitScope, monkeypatch: pytest.MonkeyPatch) -> None:
    """pika emits a message as three frames; the plugin's connection writes what one turn of its
    I/O loop emits in one piece: 20 messages of one publish are one write, not 60, and arrive in order."""
    writes: list[bytes] = []
    emit = BaseConnection._adapter_emit_data

    def counted(connection: BaseConnection, data: bytes) -> None:
        writes.append(data)
        emit(connection, data)

    monkeypatch.setattr(BaseConnection, "_adapter_emit_data", counted)
    queue = probe_queue(rabbit)
    settings = RabbitMQSettings.from_settings({"url": rabbit.url, "exchange": rabbit.exchange})
    publisher = Publisher(settings)
    publisher.start()
    try:
        wait_until(lambda: publisher.ready, 10, "the publisher's channel is open")
        writes.clear()
        topic = rabbit.prefix + "order.created"
        publisher.publish([OutgoingMessage(topic, b"%d" % i, str(i)) for i in range(20)], 10)
        sent = b"".join(writes)
        assert all(b"%d" % i in sent for i in range(20))
        assert len(writes) <= 2  # the 20 messages, and at most the confirms' turn apart
    finally:
        publisher.close(5)
    assert [body for _, _, body in take(rabbit, queue)] == [b"%d" % i for i in range(20)]
