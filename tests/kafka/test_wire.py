"""What the kafka plugin puts on the wire, read back with a raw confluent-kafka consumer."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime
from typing import Any

from attrs import evolve

from apps import order_app, stock_app
from spine_kafka.tansu import free_port

from .support import StartApp, headers_of, read_topic, unique


def test_key_headers_and_prefixed_topic(kafka_app: StartApp, kafka_bootstrap_servers: str) -> None:
    """An order's event is on ``<prefix>order.created``, keyed by the order id, with Spine's headers
    and the request's correlation id; each event has its own id."""
    prefix = unique("wire") + "."
    options = order_app.options()
    orders = kafka_app(order_app.create_app(), evolve(options, broker=evolve(options.broker, topic_prefix=prefix)))
    for order_id in (41, 42):
        result = orders.client.simulate_post(f"/orders/{order_id}", headers={"X-Correlation-ID": f"corr-{order_id}"})
        assert (result.status_code, result.text) == (200, "OK")
    messages = read_topic(kafka_bootstrap_servers, prefix + "order.created", 2)
    by_key = {m.key(): m for m in messages}
    assert set(by_key) == {b"41", b"42"}
    headers = headers_of(by_key[b"42"])
    assert headers["event-name"] == "order.created"
    assert headers["content-type"] == "application/json"
    assert headers["correlation-id"] == "corr-42"
    assert headers["event-key"] == "42"
    assert re.fullmatch(r"[0-9a-f]{32}", headers["event-id"])
    assert headers["event-id"] != headers_of(by_key[b"41"])["event-id"]
    body = json.loads(by_key[b"42"].value() or b"")
    assert body["order_id"] == 42
    assert datetime.fromisoformat(headers["occurred-at"]) == datetime.fromisoformat(body["at"])


def test_publish_with_broker_unreachable_is_503_within_timeout(kafka_app: StartApp) -> None:
    """With no broker listening, POST is answered 503 with a JSON message within the publish timeout."""
    options = order_app.options()
    assert options.broker.write is not None
    write = evolve(options.broker.write, publish_timeout=1.5)
    options = evolve(options, broker=evolve(options.broker, write=write))
    orders = kafka_app(order_app.create_app(), options, **{"bootstrap.servers": f"127.0.0.1:{free_port()}"})
    started = time.monotonic()
    result = orders.client.simulate_post("/orders/1")
    elapsed = time.monotonic() - started
    assert result.status_code == 503
    assert result.json["message"]
    assert 1.0 <= elapsed < 3.0, elapsed
    assert not orders.runtime.health().ready


def test_consumer_app_starts_while_broker_unreachable(kafka_app: StartApp) -> None:
    """A consuming app boots without Kafka (readiness says why) and closes promptly."""
    app = stock_app.create_app()
    started = time.monotonic()
    stock = kafka_app(app, stock_app.options(), **{"bootstrap.servers": f"127.0.0.1:{free_port()}"})
    assert time.monotonic() - started < 2.0
    health = stock.runtime.health()
    assert not health.ready and "unreachable" in health.detail
    closing = time.monotonic()
    stock.runtime.close(timeout=5.0)
    assert time.monotonic() - closing < 3.0


def test_a_fetched_message_becomes_text_key_and_headers() -> None:
    """librdkafka's bytes become text (an undecodable byte replaced, a None value empty); headers of
    another shape still go through the generic conversion; the position is kept for dead letters."""
    from confluent_kafka import Message

    from spine_kafka.consumer import incoming

    raw = Message(topic="t", partition=2, offset=7, key=b"k\xff", value=b"{}",
                  headers=[("event-name", b"ping"), ("empty", None), ("bad", b"\xff")])
    message = incoming(raw, 2, 7)
    assert message.key == "k\ufffd" and message.value == b"{}"
    assert message.headers == {"event-name": "ping", "empty": "", "bad": "\ufffd"}
    assert message.position == {"partition": "2", "offset": "7"}
    text = Message(topic="t", partition=0, offset=0, headers=[("name", "text")])
    assert incoming(text, 0, 0).headers == {"name": "text"}
    assert incoming(Message(topic="t", partition=0, offset=0), 0, 0).headers == {}


def test_headers_decode_strictly_first_then_by_the_generic_conversion() -> None:
    """Valid UTF-8 (multi-byte too) is decoded as is; one bad byte anywhere, a text value or a None
    value sends the whole list through the generic conversion, which replaces and empties; the last
    of a repeated name wins either way."""
    from spine_kafka.consumer import _text

    assert _text([("a", "é".encode()), ("a", b"2")]) == {"a": "2"}
    assert _text([("a", b"ok"), ("b", b"x\xe9y"), ("a", b"2")]) == {"a": "2", "b": "x\ufffdy"}
    assert _text([("a", b"ok"), ("b", None), ("c", "text")]) == {"a": "ok", "b": "", "c": "text"}


def test_received_messages_find_their_partition_in_runs_and_interleaved() -> None:
    """The poll thread looks a partition's state up once per run of its messages: interleaved runs
    still land on their own partitions' offsets and lanes, and a partition not assigned is dropped."""
    from confluent_kafka import Message

    from spine_core.broker import OffsetTracker, Subscription
    from spine_kafka.consumer import Consumer

    def deliver(message: object) -> Any:
        raise AssertionError("not started")

    consumer = Consumer({"group.id": "g"}, [Subscription("t", deliver)], None, None,  # type: ignore[arg-type]
                        workers=1, max_pending=100, settle_timeout=1, revoke_timeout=1, redelivery_delay=1)
    zero, one = OffsetTracker(), OffsetTracker()
    consumer._states.update({("t", 0): zero, ("t", 1): one})
    fetched = [(0, 5, b"a"), (0, 6, b"b"), (1, 9, b"a"), (2, 1, b"a"), (0, 7, b"a"), (1, 10, None)]
    consumer._receive([Message(topic="t", partition=p, offset=o, key=k, value=b"{}") for p, o, k in fetched])
    assert zero.first_open(-1) == 5 and list(zero._open) == [5, 6, 7]
    assert list(one._open) == [9, 10]
    lanes = {lane: [offset for _, _, offset in items] for lane, items in consumer._lanes._lanes.items()}
    assert lanes == {("t", 0, b"a"): [5, 7], ("t", 0, b"b"): [6], ("t", 1, b"a"): [9], ("t", 1, None): [10]}
