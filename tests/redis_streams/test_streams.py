"""What the plugin writes to and reads from Redis: entry fields, trimming, dead letters, lag."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
import redis

from spine_core.consumers.chain import consumer_chain
from spine_core.consumers.resolvers import consumer_resolver_for
from spine_core.container import Container
from spine_core.errors import PublishError
from spine_core.messages import Headers, IncomingMessage, OutgoingMessage, Subscription
from spine_core.options import BrokerConfig, ReadOptions, RetryOptions
from spine_core.pipeline.plan import make_plan
from spine_core.testing import wait_until
from spine_core.testing import Features, Harness, Received, Recorder, Sample

from .conftest import RedisScope


@pytest.fixture
def harness(scope: RedisScope) -> Iterator[Harness]:
    h = Harness(scope.plugin, Features())
    scope.prefixes.add(h.prefix)
    yield h
    h.close_all()


@pytest.fixture
def client(scope: RedisScope) -> Iterator[redis.Redis]:
    c = redis.Redis.from_url(scope.url)
    yield c
    c.close()


def xrange(client: redis.Redis, stream: str) -> list[tuple[bytes, dict[bytes, bytes]]]:
    """Every entry of ``stream``: its id and fields."""
    entries: Any = client.xrange(stream)
    return list(entries)


def test_a_message_is_one_entry_with_value_key_and_headers(scope: RedisScope, client: redis.Redis) -> None:
    """``value``, ``key`` and ``h:<header>`` fields, readable with ``XRANGE``."""
    plugin = scope.plugin(BrokerConfig(name="redis", topic_prefix=scope.prefix))
    topic = scope.prefix + "wire"
    plugin.spine_publish(messages=[OutgoingMessage(topic, b'{"a": 1}', "k1", {"traceparent": "00-ab-cd-01"}),
                                   OutgoingMessage(topic, b"\xff\x00")], timeout=5.0)
    [(_, keyed), (_, unkeyed)] = xrange(client, topic)
    assert keyed == {b"value": b'{"a": 1}', b"key": b"k1", b"h:traceparent": b"00-ab-cd-01"}
    assert unkeyed == {b"value": b"\xff\x00"}


def test_maxlen_trims_the_stream_on_publish(scope: RedisScope, client: redis.Redis) -> None:
    """With ``maxlen``, a stream keeps about that many entries (``XADD MAXLEN ~``)."""
    plugin = scope.plugin(BrokerConfig(name="redis", topic_prefix=scope.prefix, settings={"maxlen": "100"}))
    topic = scope.prefix + "trimmed"
    for _ in range(10):
        plugin.spine_publish(messages=[OutgoingMessage(topic, b"x")] * 100, timeout=5.0)
    assert 100 <= client.xlen(topic) < 300


def test_dead_letter_entry_keeps_the_original_and_adds_the_reason(
    harness: Harness, client: redis.Redis
) -> None:
    """The ``<topic>.dlq`` entry has the original value, key and headers (event id included)
    and the reason in ``h:dead-letter-*`` fields; the original is acknowledged."""
    def refuse(event: Sample) -> None:
        raise ValueError("no such product")

    harness.consume(harness.broker("dl"), "dl", refuse, attempts=1)
    harness.publish(harness.broker(), [Sample(1, "key-1", datetime.now(timezone.utc))])
    dlq = harness.topic + ".dlq"
    wait_until(lambda: client.xlen(dlq) == 1, 20, "the dead letter")
    [(original_id, original)] = xrange(client, harness.topic)
    [(_, letter)] = xrange(client, dlq)
    assert {k: v for k, v in letter.items() if not k.startswith(b"h:dead-letter-")} == original
    assert letter[b"h:" + Headers.ERROR_TYPE.encode()] == b"ValueError"
    assert letter[b"h:" + Headers.ERROR_MESSAGE.encode()] == b"no such product"
    assert letter[b"h:" + Headers.ORIGINAL_TOPIC.encode()] == harness.topic.encode()
    assert letter[b"h:dead-letter-original-entry-id"] == original_id
    wait_until(lambda: client.xpending(harness.topic, harness.prefix + "dl")["pending"] == 0, 10, "the ack")


def test_lag_counts_entries_not_yet_acknowledged(harness: Harness) -> None:
    """Consumer lag is the group's undelivered plus pending entries, by ``(topic, 0)``."""
    release = threading.Event()
    handled = Recorder()

    def slow(event: Sample, message: IncomingMessage) -> None:
        release.wait(30)
        handled.add(Received(event, dict(message.headers), "a"))

    member = harness.broker("lag")
    harness.consume(member, "lag", slow)
    at = datetime.now(timezone.utc)
    harness.publish(harness.broker(), [Sample(i, "one-key", at) for i in range(20)])
    wait_until(lambda: member.spine_consumer_lag() == {(harness.topic, 0): 20}, 10, "a lag of 20")
    release.set()
    handled.wait_for(lambda items: len(items) == 20, 20, "20 events")
    wait_until(lambda: member.spine_consumer_lag() == {(harness.topic, 0): 0}, 10, "no lag")


def test_publishing_after_close_raises(scope: RedisScope) -> None:
    plugin = scope.plugin(BrokerConfig(name="redis", topic_prefix=scope.prefix))
    plugin.spine_broker_close(timeout=1.0)
    with pytest.raises(PublishError, match="closed"):
        plugin.spine_publish(messages=[OutgoingMessage(scope.prefix + "late", b"x")], timeout=1.0)


def test_a_message_handed_back_during_retries_goes_to_the_next_member(harness: Harness) -> None:
    """A member stopping while a handler waits for its next attempt hands the entry back
    (``Nack``); the group's next member gets it, and it is not acknowledged before."""
    stopping, attempts = threading.Event(), Recorder()

    def failing(event: Sample, message: IncomingMessage) -> None:
        attempts.add(Received(event, dict(message.headers), "a"))
        raise RuntimeError("not yet")

    read = ReadOptions(group_id=harness.prefix + "nack", retry=RetryOptions(attempts=5, initial_delay=30.0))
    runner = consumer_chain(make_plan(failing, Container(), consumer_resolver_for(harness.topic), []),
                            read, lambda ctx: None, stopping)
    member = harness.broker("nack")
    member.spine_subscribe(group_id=read.group_id, subscriptions=[Subscription(harness.topic, runner)])
    harness.wait_ready(member)
    harness.publish(harness.broker(), [Sample(5, "k", datetime.now(timezone.utc))])
    attempts.wait_for(lambda items: len(items) == 1, 10, "the first attempt")
    stopping.set()  # the retry's wait ends: the runner answers Nack
    harness.close(member, timeout=5.0)
    received = Recorder()

    def record(event: Sample, message: IncomingMessage) -> None:
        received.add(Received(event, dict(message.headers), "b"))

    harness.consume(harness.broker("nack"), "nack", record)
    received.wait_for(lambda items: len(items) == 1, 10, "the entry handed back")
    assert received.ids() == [5] and attempts.ids() == [5]
