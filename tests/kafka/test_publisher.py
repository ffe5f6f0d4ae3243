"""The shared producer: concurrent senders, each answered only once its own messages are confirmed,
while one of them at a time serves everyone's delivery reports."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from spine_core.errors import PublishError
from spine_core.messages import OutgoingMessage
from spine_kafka.publisher import Publisher
from spine_kafka.topics import Topics

from .support import headers_of, read_topic, unique

THREADS = 16
SENDS = 40


def _producer(bootstrap: str, timeout: float = 10.0) -> Publisher:
    config = {"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all", "linger.ms": 0,
              "message.timeout.ms": int(timeout * 1000)}
    return Publisher(config, Topics({"bootstrap.servers": bootstrap}, 3, -1, True))


def test_concurrent_senders_each_return_after_their_messages_are_confirmed(kafka_bootstrap_servers: str) -> None:
    """16 threads sending 1 to 3 messages at a time: every send returns without error, and
    every message it sent is on the topic (none lost while the polling is handed over)."""
    topic = unique("handoff")
    producer = _producer(kafka_bootstrap_servers)
    slowest: list[float] = []

    def sender(thread: int) -> int:
        sent = 0
        for n in range(SENDS):
            messages = [OutgoingMessage(topic, f"{thread}-{n}-{i}".encode(), f"k{thread}", {"n": str(sent + i)})
                        for i in range(1 + n % 3)]
            started = time.monotonic()
            producer.send(messages, 10.0)
            slowest.append(time.monotonic() - started)
            sent += len(messages)
        return sent

    try:
        producer.send([OutgoingMessage(topic, b"first")], 10.0)  # creates the topic
        with ThreadPoolExecutor(THREADS) as pool:
            total = sum(pool.map(sender, range(THREADS)))
    finally:
        producer.close(5.0)
    values = {m.value() for m in read_topic(kafka_bootstrap_servers, topic, total + 1)}
    expected = {f"{t}-{n}-{i}".encode() for t in range(THREADS) for n in range(SENDS) for i in range(1 + n % 3)}
    assert expected <= values
    assert max(slowest) < 5.0


def test_a_send_after_an_idle_spell_is_confirmed(kafka_bootstrap_servers: str) -> None:
    """Sends spaced out beyond the background poll interval: each is served by its own thread."""
    topic = unique("idle")
    producer = _producer(kafka_bootstrap_servers)
    try:
        for n in range(3):
            producer.send([OutgoingMessage(topic, str(n).encode(), None, {"n": str(n)})], 10.0)
            threading.Event().wait(0.25)  # an idle spell, not a wait for a condition
    finally:
        producer.close(5.0)
    messages = read_topic(kafka_bootstrap_servers, topic, 3)
    assert sorted(headers_of(m)["n"] for m in messages) == ["0", "1", "2"]


def test_concurrent_unconfirmed_sends_each_fail_within_their_timeout() -> None:
    """Senders waiting together on an unreachable broker all fail within the timeout: none
    hangs for want of a thread serving the reports once the first gave up."""
    dead = _producer("127.0.0.1:1", timeout=1.0)
    dead._topics = Topics({"bootstrap.servers": "127.0.0.1:1"}, 3, -1, False)  # no topic creation to wait for
    failures: list[float] = []

    def send() -> None:
        started = time.monotonic()
        try:
            dead.send([OutgoingMessage("nowhere", b"x")], 1.0)
        except PublishError:
            failures.append(time.monotonic() - started)

    try:
        threads = [threading.Thread(target=send) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10.0)
    finally:
        dead.close(0.5)
    assert len(failures) == 4 and max(failures) < 3.0
