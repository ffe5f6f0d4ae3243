"""What the plugin makes on JetStream and sends: streams, durable consumers, headers, in-progress, lag."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import nats
import pytest
from nats.js import api

from spine_core.errors import PublishError
from spine_core.messages import Headers, IncomingMessage, OutgoingMessage
from spine_core.options import BrokerConfig
from spine_core.testing import Deliveries, Features, Harness, Received, Recorder, Sample, wait_until
from spine_nats.config import durable_name, stream_name

from .conftest import NatsScope


def jetstream(url: str, call: Any) -> Any:
    """``call(js)`` on a connection of the test's own (an async function of the JetStream context)."""
    async def run() -> Any:
        client = await nats.connect(url)
        try:
            return await call(client.jetstream())
        finally:
            await client.close()

    return asyncio.run(run())


@pytest.fixture
def harness(scope: NatsScope) -> Iterator[Harness]:
    h = Harness(scope.plugin, Features())
    scope.prefixes.add(h.prefix)
    yield h
    h.close_all()


def test_a_topic_is_a_file_stream_of_its_own_kept_by_limits(scope: NatsScope) -> None:
    """The stream of a topic has the topic as its only subject, file storage and limits retention
    (every group gets every message), with the age and size settings."""
    plugin = scope.plugin(BrokerConfig(name="nats", topic_prefix=scope.prefix,
                                       settings={"max.age": "3600", "max.bytes": "1000000"}))
    topic = scope.prefix + "order.created"
    plugin.spine_publish(messages=[OutgoingMessage(topic, b"{}")], timeout=5.0)
    info = jetstream(scope.url, lambda js: js.stream_info(stream_name(topic)))
    assert info.config.subjects == [topic]
    assert (info.config.storage, info.config.retention) == (api.StorageType.FILE, api.RetentionPolicy.LIMITS)
    assert (info.config.max_age, info.config.max_bytes, info.state.messages) == (3600.0, 1000000, 1)


def test_without_create_streams_a_topic_without_stream_is_refused(scope: NatsScope) -> None:
    """``create.streams=false``: publishing to a topic no stream takes fails clearly, nothing is made."""
    plugin = scope.plugin(BrokerConfig(name="nats", topic_prefix=scope.prefix, settings={"create.streams": "0"}))
    plugin.spine_broker_start()
    with pytest.raises(PublishError, match="no response from stream"):
        plugin.spine_publish(messages=[OutgoingMessage(scope.prefix + "nowhere", b"x")], timeout=2.0)


def test_a_stream_deleted_since_it_was_made_is_made_again(scope: NatsScope) -> None:
    """The plugin remembers the streams it made; one deleted behind its back is made again and the
    publish that found it missing goes through (once more), confirmed."""
    plugin = scope.plugin(BrokerConfig(name="nats", topic_prefix=scope.prefix))
    topic = scope.prefix + "order.created"
    plugin.spine_publish(messages=[OutgoingMessage(topic, b"1")], timeout=5.0)
    jetstream(scope.url, lambda js: js.delete_stream(stream_name(topic)))
    plugin.spine_publish(messages=[OutgoingMessage(topic, b"2")], timeout=5.0)
    info = jetstream(scope.url, lambda js: js.stream_info(stream_name(topic)))
    assert info.state.messages == 1
    assert jetstream(scope.url, lambda js: js.get_msg(stream_name(topic), info.state.first_seq)).data == b"2"


def test_many_threads_publishing_at_once_are_each_confirmed_in_order(scope: NatsScope) -> None:
    """16 threads publish 5 batches of 3 at once: every call returns confirmed, nothing is lost or
    doubled, and each batch is in the stream in its order (the calls go to the loop together)."""
    plugin = scope.plugin(BrokerConfig(name="nats", topic_prefix=scope.prefix))
    topic = scope.prefix + "many"
    plugin.spine_publish(messages=[OutgoingMessage(topic, b"warm")], timeout=5.0)
    errors: list[BaseException] = []

    def publish(thread: int) -> None:
        try:
            for batch in range(5):
                plugin.spine_publish(messages=[OutgoingMessage(topic, b"%d-%d-%d" % (thread, batch, i))
                                               for i in range(3)], timeout=10.0)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=publish, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []

    async def values(js: Any) -> list[bytes]:
        info = await js.stream_info(stream_name(topic))
        return [(await js.get_msg(stream_name(topic), seq)).data for seq in range(2, info.state.last_seq + 1)]

    stored = jetstream(scope.url, values)
    assert sorted(stored) == sorted(b"%d-%d-%d" % (t, b, i) for t in range(16) for b in range(5) for i in range(3))
    for t in range(16):
        mine = [v for v in stored if v.startswith(b"%d-" % t)]
        assert mine == [b"%d-%d-%d" % (t, b, i) for b in range(5) for i in range(3)]


def test_a_message_carries_its_key_and_headers_as_nats_headers(scope: NatsScope) -> None:
    """The value is the payload; the key and Spine's headers are NATS headers; a line break in a
    value (a dead letter's error message) survives, quoted on the wire."""
    plugin = scope.plugin(BrokerConfig(name="nats", topic_prefix=scope.prefix))
    topic = scope.prefix + "wire"
    sent = OutgoingMessage(topic, b'{"a": 1}', "k1", {"traceparent": "00-ab-cd-01", "why": "line one\nline two"})
    plugin.spine_publish(messages=[sent], timeout=5.0)
    raw = jetstream(scope.url, lambda js: js.get_msg(stream_name(topic), 1))
    assert raw.data == b'{"a": 1}'
    assert (raw.headers[Headers.KEY], raw.headers["traceparent"]) == ("k1", "00-ab-cd-01")
    received = Recorder()

    def record(payload: bytes, message: IncomingMessage) -> None:
        received.add(Received(Sample(0, "", datetime.now(timezone.utc)), dict(message.headers), message.key or ""))

    harness = Harness(scope.plugin, Features())
    harness.prefix = scope.prefix
    try:
        harness.consume(harness.broker("wire"), "wire", record, topic=topic)
        received.wait_for(lambda items: len(items) == 1, 10, "the message")
        assert received.items[0].member == "k1"
        assert received.items[0].headers["why"] == "line one\nline two"
        assert "spine-quoted" not in received.items[0].headers
    finally:
        harness.close_all()


def test_a_group_is_a_durable_consumer_that_never_gives_up_on_its_own(scope: NatsScope, harness: Harness) -> None:
    """Explicit acks, unlimited ``max_deliver`` (Spine dead-letters, never JetStream), ``max_ack_pending``
    from ``max.pending``, and ``ack_wait`` from the settings."""
    plugin = harness.broker("durable", factory=lambda config: harness.make_broker(
        BrokerConfig(name="nats", topic_prefix=config.topic_prefix, read=config.read, write=config.write,
                     settings={"max.pending": "123", "ack.wait": "7"})))

    def handle(event: Sample) -> None:
        pass

    harness.consume(plugin, "durable", handle)
    durable = durable_name(harness.prefix + "durable")
    info = jetstream(scope.url, lambda js: js.consumer_info(stream_name(harness.topic), durable))
    config = info.config
    assert (config.ack_policy, config.max_deliver, config.max_ack_pending) == (api.AckPolicy.EXPLICIT, -1, 123)
    assert (config.ack_wait, config.filter_subject) == (7.0, harness.topic)


def test_a_handler_longer_than_ack_wait_keeps_its_message(harness: Harness) -> None:
    """A handler running three times ``ack_wait`` is not given its message twice: the plugin says
    ``in_progress`` while it holds it."""
    calls: list[int] = []
    done = threading.Event()

    def slow(event: Sample) -> None:
        calls.append(event.id)
        done.wait(3.5)

    plugin = harness.broker("slow", factory=lambda config: harness.make_broker(
        BrokerConfig(name="nats", topic_prefix=config.topic_prefix, read=config.read, write=config.write,
                     settings={"ack.wait": "1"})))
    harness.consume(plugin, "slow", slow)
    harness.publish(harness.broker(), [Sample(1, "k", datetime.now(timezone.utc))])
    wait_until(lambda: calls == [1], 10, "the first call")
    wait_until(lambda: plugin.spine_consumer_lag() == {(harness.topic, 0): 0}, 10, "the message acknowledged")
    assert calls == [1]


def test_lag_counts_messages_not_yet_acknowledged(harness: Harness) -> None:
    """Consumer lag is the durable consumer's pending plus unacknowledged messages, by ``(topic, 0)``."""
    release = threading.Event()
    handled = Deliveries()

    def slow(event: Sample, message: IncomingMessage) -> None:
        release.wait(30)
        handled(message)

    member = harness.broker("lag")
    harness.consume(member, "lag", slow)
    harness.publish(harness.broker(), [Sample(i, "one-key", datetime.now(timezone.utc)) for i in range(20)])
    wait_until(lambda: member.spine_consumer_lag() == {(harness.topic, 0): 20}, 10, "a lag of 20")
    release.set()
    wait_until(lambda: len(handled.values) == 20, 20, "20 events")
    wait_until(lambda: member.spine_consumer_lag() == {(harness.topic, 0): 0}, 10, "no lag")


def test_a_wrong_password_is_a_boot_error_that_shows_no_secret(
    scope: NatsScope, caplog: pytest.LogCaptureFixture, tmp_path: Any
) -> None:
    """A server refusing the credentials stops the boot with a clear error; the password appears in
    neither the error, the log, the health nor the repr."""
    from spine_core.testing import PrivateServer

    with PrivateServer(["nats-server", "-a", "127.0.0.1", "-p", "{port}", "--user", "spine",
                        "--pass", "right-one"]) as server:
        plugin = scope.plugin(BrokerConfig(name="nats", settings={
            "url": f"nats://127.0.0.1:{server.port}", "user": "spine", "password": "wrong-s3cret"}))
        with pytest.raises(Exception) as error:
            plugin.spine_broker_start()
        shown = [str(error.value), caplog.text, plugin.spine_broker_health().detail, repr(plugin.settings)]
    assert "refused the connection" in str(error.value)
    assert not [text for text in shown if "wrong-s3cret" in text], shown
