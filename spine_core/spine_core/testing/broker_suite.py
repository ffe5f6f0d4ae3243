"""The broker conformance suite: what every broker plugin guarantees, checked.

A plugin's tests run it with a few lines (pytest required: ``pip install spine-core[testing]``)::

    from spine_core.testing import BrokerConformance, Features

    class TestMyBrokerConformance(BrokerConformance):
        features = Features(cannot_stop="a managed cluster the tests cannot stop")

        @pytest.fixture
        def make_broker(self):
            return lambda config: MyBrokerPlugin(config)

        @pytest.fixture
        def make_unreachable_broker(self):
            return lambda config: MyBrokerPlugin(evolve(config, settings={"url": "amqp://127.0.0.1:9"}))

        @pytest.fixture
        def broker_outage(self):
            return MyOutage()  # make_broker, down(), up(): a broker of the test's own to stop and start

The suite drives the brokers only through the ``spine_*`` hooks, with the core's
own encoding and consumer pipeline (:mod:`.harness`). Where a broker's documented
rule differs, a :class:`~.harness.Features` flag says so and the test checks that
broker's own rule.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import ClassVar

import pytest

from ..codecs.base import Codec
from ..codecs.json import JSON
from ..errors import PublishError
from ..plugins import BrokerFactory
from ..event import to_message
from ..messages import Headers, IncomingMessage, OutgoingMessage
from .harness import (
    CODECS, BrokerOutage, Features, Harness, Received, Recorder, Sample, codec_id, lag_of, publishes_events, ready,
    recording, samples, traced,
)
from .kit import wait_until


class BrokerConformance:
    """Subclass as ``Test...`` and provide the ``make_broker`` and ``make_unreachable_broker``
    fixtures; set ``features`` where the broker's rules differ."""

    features: ClassVar[Features] = Features()

    @pytest.fixture
    def make_broker(self) -> BrokerFactory:
        raise NotImplementedError("provide a make_broker fixture: BrokerConfig -> plugin object")

    @pytest.fixture
    def make_unreachable_broker(self) -> BrokerFactory:
        raise NotImplementedError("provide a make_unreachable_broker fixture: a broker that cannot deliver")

    @pytest.fixture
    def broker_outage(self) -> BrokerOutage:
        if self.features.cannot_stop is not None:
            pytest.skip(f"the broker cannot be taken down in tests: {self.features.cannot_stop}")
        raise NotImplementedError("provide a broker_outage fixture (a broker the test can take down and up), "
                                  "or say why there is none with Features(cannot_stop=...)")

    unreachable: ClassVar[str | None] = None
    """Why the broker was found unreachable by an earlier test of this class (then the rest fail at once)."""

    @pytest.fixture
    def harness(self, make_broker: BrokerFactory) -> Iterator[Harness]:
        h = Harness(make_broker, self.features)
        try:
            self._check_reachable(h)
            yield h
        finally:
            h.close_all()

    def _check_reachable(self, harness: Harness) -> None:
        """Fail within ``reach_timeout`` when the broker cannot be reached, and at once after that."""
        cls = type(self)
        if cls.unreachable is not None:
            pytest.fail(f"broker unreachable (found by an earlier test): {cls.unreachable}", pytrace=False)
        hook = harness.broker()
        try:
            wait_until(lambda: ready(hook), self.features.reach_timeout, lambda: "the broker")
        except AssertionError:
            cls.unreachable = f"not ready after {self.features.reach_timeout}s: {hook.spine_broker_health()}"
            pytest.fail(f"broker unreachable: {cls.unreachable}", pytrace=False)
        finally:
            harness.close(hook, timeout=1.0)

    @pytest.mark.parametrize("codec", CODECS, ids=codec_id)
    def test_typed_event_roundtrip(self, harness: Harness, codec: Codec) -> None:
        """A published event arrives decoded equal to what was sent, with Spine's headers, in each codec."""
        harness.codec = codec
        received = Recorder()
        harness.consume(harness.broker("g"), "g", recording(received))
        sent = samples(1)[0]
        harness.publish(harness.broker(), [sent], correlation_id="corr-roundtrip")
        received.wait_for(lambda items: len(items) >= 1, self.features.delivery_timeout, "the event")
        got = received.items[0]
        assert got.event == sent
        if codec is JSON:  # msgpack's timestamp is an instant: it decodes in UTC
            assert got.event.at.utcoffset() == timedelta(hours=9)
        assert got.headers[Headers.EVENT_NAME] == "sample.happened"
        assert len(got.headers[Headers.EVENT_ID]) >= 16
        assert datetime.fromisoformat(got.headers[Headers.OCCURRED_AT]) == sent.at
        assert got.headers[Headers.CORRELATION_ID] == "corr-roundtrip"
        assert got.headers[Headers.CONTENT_TYPE] == codec.content_type

    def test_topics_are_distinct_with_prefix(self, harness: Harness) -> None:
        """A consumer of the prefixed topic gets its events; one of another prefix gets none of them."""
        mine, other = Recorder(), Recorder()
        other_topic = "other." + harness.topic
        harness.consume(harness.broker("mine"), "mine", recording(mine))
        harness.consume(harness.broker("other"), "other", recording(other), topic=other_topic)
        publisher = harness.broker()
        harness.publish(publisher, samples(5))
        marker = samples(1, start=99)[0]
        publisher.spine_publish(messages=[to_message(marker, "other." + harness.prefix, "c")], timeout=10.0)
        mine.wait_for(lambda items: len(items) == 5, self.features.delivery_timeout, "5 events")
        other.wait_for(lambda items: len(items) >= 1, self.features.delivery_timeout, "the marker")
        assert other.ids() == [99]
        assert sorted(mine.ids()) == list(range(5))

    def test_each_group_receives_every_message(self, harness: Harness) -> None:
        """Two consumer groups each receive every message."""
        first, second = Recorder(), Recorder()
        harness.consume(harness.broker("one"), "one", recording(first))
        harness.consume(harness.broker("two"), "two", recording(second))
        harness.publish(harness.broker(), samples(50))
        for recorder in (first, second):
            recorder.wait_for(lambda items: len(items) >= 50, self.features.delivery_timeout, "50 events")
            assert sorted(recorder.ids()) == list(range(50))

    def test_members_of_a_group_share_messages(self, harness: Harness) -> None:
        """Two members of one group split the messages: each handled once, by one of them."""
        received = Recorder()
        a, b = harness.broker("shared"), harness.broker("shared")
        harness.consume(a, "shared", recording(received, "a"))
        harness.consume(b, "shared", recording(received, "b"))
        harness.wait_ready(a)
        harness.publish(harness.broker(), samples(200, keys=40))
        received.wait_for(lambda items: len(items) >= 200, self.features.delivery_timeout, "200 events")
        assert sorted(received.ids()) == list(range(200)), "a message was lost or handled twice"
        members = {r.member for r in received.items}
        assert members == {"a", "b"}, f"only {members} received messages"

    def test_per_key_order(self, harness: Harness) -> None:
        """1,000 events over 10 keys arrive in publish order per key."""
        received = Recorder()
        harness.consume(harness.broker("order"), "order", recording(received))
        if self.features.key_order_across_members:
            harness.consume(harness.broker("order"), "order", recording(received, "b"))
        publisher = harness.broker()
        events = samples(1000, keys=10)
        for i in range(0, 1000, 100):
            harness.publish(publisher, events[i:i + 100])
        received.wait_for(lambda items: len(items) >= 1000, self.features.delivery_timeout, "1000 events")
        per_key: dict[str, list[int]] = {}
        for r in received.items:
            per_key.setdefault(r.event.key_, []).append(r.event.id)
        assert len(per_key) == 10
        for key, ids in per_key.items():
            assert ids == sorted(ids), f"key {key} out of order"

    def test_retried_then_handled_once(self, harness: Harness) -> None:
        """A handler that fails twice then succeeds is retried; the message is handled once."""
        calls: list[int] = []
        done = Recorder()

        def flaky(event: Sample, message: IncomingMessage) -> None:
            calls.append(event.id)
            if len(calls) <= 2:
                raise RuntimeError("transient")
            done.add(Received(event, dict(message.headers), "a"))

        harness.consume(harness.broker("retry"), "retry", flaky, attempts=3)
        harness.publish(harness.broker(), samples(1))
        done.wait_for(lambda items: len(items) >= 1, self.features.delivery_timeout, "the handled event")
        assert calls == [0, 0, 0]
        assert done.ids() == [0]

    @pytest.mark.parametrize("codec", CODECS, ids=codec_id)
    def test_failing_message_dead_lettered_and_later_ones_handled(self, harness: Harness, codec: Codec) -> None:
        """A message whose handler always fails ends in ``<topic>.dlq`` with the reason, in its codec (a
        consumer of the dead letters decodes it); later ones go on."""
        harness.codec = codec
        handled, dead = Recorder(), Recorder()

        def handler(event: Sample, message: IncomingMessage) -> None:
            if event.id == 0:
                raise ValueError("stock unavailable")
            handled.add(Received(event, dict(message.headers), "a"))

        harness.consume(harness.broker("dl"), "dl", handler, attempts=2)
        harness.consume(harness.broker("dlq"), "dlq", recording(dead), topic=harness.topic + ".dlq")
        harness.publish(harness.broker(), [Sample(i, "same-key", datetime.now(timezone.utc)) for i in range(3)])
        handled.wait_for(lambda items: len(items) >= 2, self.features.delivery_timeout, "the later events")
        dead.wait_for(lambda items: len(items) >= 1, self.features.delivery_timeout, "the dead letter")
        assert sorted(handled.ids()) == [1, 2]
        assert dead.ids() == [0]
        reason = dead.items[0].headers
        assert reason[Headers.ERROR_TYPE] == "ValueError"
        assert reason[Headers.ERROR_MESSAGE] == "stock unavailable"
        assert reason[Headers.ATTEMPTS] == "2"
        assert reason[Headers.ORIGINAL_TOPIC] == harness.topic
        assert reason[Headers.CONTENT_TYPE] == codec.content_type

    def test_undecodable_payload_dead_lettered_at_once(self, harness: Harness) -> None:
        """A payload that does not decode into the event goes to ``<topic>.dlq`` without retries."""
        handled, dead = Recorder(), Recorder()
        harness.consume(harness.broker("bad"), "bad", recording(handled))
        seen: list[bytes] = []

        def raw(payload: bytes, message: IncomingMessage) -> None:
            seen.append(payload)
            dead.add(Received(Sample(len(seen), "", datetime.now(timezone.utc)), dict(message.headers), "dlq"))

        harness.consume(harness.broker("badq"), "badq", raw, topic=harness.topic + ".dlq")
        publisher = harness.broker()
        poison = OutgoingMessage(harness.topic, b"{not json", "k", {Headers.EVENT_NAME: "sample.happened"})
        publisher.spine_publish(messages=[poison], timeout=10.0)
        harness.publish(publisher, samples(1, start=7))
        handled.wait_for(lambda items: len(items) >= 1, self.features.delivery_timeout, "the good event")
        dead.wait_for(lambda items: len(items) >= 1, self.features.delivery_timeout, "the dead letter")
        assert handled.ids() == [7]
        assert seen == [b"{not json"]
        assert dead.items[0].headers[Headers.ATTEMPTS] == "0"
        assert dead.items[0].headers[Headers.ERROR_TYPE]

    def test_unfinished_message_redelivered_after_abrupt_close(self, harness: Harness) -> None:
        """A member closed while its handler is stuck leaves that message to the group's next member."""
        entered, release = threading.Event(), threading.Event()
        first: list[int] = []

        def stuck(event: Sample) -> None:
            first.append(event.id)
            entered.set()
            release.wait(30)

        member = harness.broker("redeliver")
        harness.consume(member, "redeliver", stuck)
        harness.publish(harness.broker(), samples(1))
        assert entered.wait(self.features.delivery_timeout), "the first member never got the message"
        harness.close(member, timeout=0.0)
        received = Recorder()
        harness.consume(harness.broker("redeliver"), "redeliver", recording(received, "b"))
        try:
            received.wait_for(lambda items: 0 in [r.event.id for r in items], self.features.delivery_timeout,
                              "the redelivered message")
        finally:
            release.set()
        assert first == [0]

    def test_concurrent_publishers_lose_and_duplicate_nothing(self, harness: Harness) -> None:
        """16 threads × 500 events published at once all arrive exactly once."""
        received = Recorder()
        harness.consume(harness.broker("many"), "many", recording(received))
        publisher = harness.broker()
        errors: list[BaseException] = []

        def publish_range(thread: int) -> None:
            try:
                for event in samples(500, start=thread * 500):
                    harness.publish(publisher, [event])
            except BaseException as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=publish_range, args=(t,)) for t in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors, errors[:3]
        received.wait_for(lambda items: len(items) >= 8000, self.features.delivery_timeout * 4, "8000 events")
        ids = received.ids()
        assert len(ids) == len(set(ids)) == 8000

    def test_close_waits_for_handler_in_flight(self, harness: Harness) -> None:
        """Closing a consumer while its handler runs waits for it; the message is not handled again."""
        entered, release = threading.Event(), threading.Event()
        finished: list[int] = []

        def slow(event: Sample) -> None:
            entered.set()
            release.wait(30)
            finished.append(event.id)

        member = harness.broker("graceful")
        harness.consume(member, "graceful", slow)
        publisher = harness.broker()
        harness.publish(publisher, samples(1))
        assert entered.wait(self.features.delivery_timeout), "the handler never started"
        closer = threading.Thread(target=harness.close, args=(member, 20.0))
        closer.start()
        closer.join(0.3)
        assert closer.is_alive(), "close returned while the handler was still running"
        release.set()
        closer.join(20)
        assert not closer.is_alive() and finished == [0]
        after = Recorder()
        harness.consume(harness.broker("graceful"), "graceful", recording(after))
        harness.publish(publisher, samples(1, start=1))
        after.wait_for(lambda items: len(items) >= 1, self.features.delivery_timeout, "the next event")
        assert after.ids() == [1], "the finished message was delivered again"

    def test_publish_fails_clearly_within_timeout(self, make_unreachable_broker: BrokerFactory) -> None:
        """Publishing while the broker cannot deliver raises PublishError within the publish timeout."""
        harness = Harness(make_unreachable_broker, self.features)
        try:
            hook = harness.broker()
            started = time.monotonic()
            with pytest.raises(PublishError):
                hook.spine_publish(messages=[to_message(samples(1)[0], harness.prefix, "c")], timeout=1.0)
            assert time.monotonic() - started < 4.0
        finally:
            harness.close_all()

    # -- the contract, tightened ------------------------------------------------

    def test_nack_redelivered_to_next_member(self, harness: Harness) -> None:
        """A message given back (the consumer stops while its handler waits for a retry) is not
        committed: the group's next member receives it."""
        failed, stopping = threading.Event(), threading.Event()
        calls: list[int] = []

        def always_fails(event: Sample) -> None:
            calls.append(event.id)
            failed.set()
            raise RuntimeError("transient")

        member = harness.broker("nack")
        harness.consume(member, "nack", always_fails, attempts=5, retry_delay=60.0, stopping=stopping)
        harness.publish(harness.broker(), samples(1))
        assert failed.wait(self.features.delivery_timeout), "the handler never got the message"
        stopping.set()
        harness.close(member, timeout=5.0)
        received = Recorder()
        harness.consume(harness.broker("nack"), "nack", recording(received, "b"))
        received.wait_for(lambda items: 0 in [r.event.id for r in items], self.features.delivery_timeout,
                          "the message given back")
        assert calls == [0], "the first member retried after it was stopped"

    def test_publisher_headers_arrive_unchanged(self, harness: Harness) -> None:
        """``traceparent`` and a custom header set by the publisher arrive as they were sent."""
        received = Recorder()
        harness.consume(harness.broker("headers"), "headers", recording(received))
        sent = traced(to_message(samples(1)[0], harness.prefix, "corr-headers"))
        harness.broker().spine_publish(messages=[sent], timeout=10.0)
        received.wait_for(lambda items: len(items) >= 1, self.features.delivery_timeout, "the event")
        got = received.items[0].headers
        for name, value in sent.headers.items():
            assert got.get(name) == value, f"header {name!r}: sent {value!r}, received {got.get(name)!r}"

    def test_dead_letter_keeps_key_value_and_headers(self, harness: Harness) -> None:
        """A dead-lettered copy has the original key, value and headers (event id included), plus the reason."""
        letters: list[IncomingMessage] = []
        arrived = threading.Event()

        def failing(event: Sample) -> None:
            raise ValueError("no stock")

        def raw(payload: bytes, message: IncomingMessage) -> None:
            letters.append(message)
            arrived.set()

        harness.consume(harness.broker("dlcopy"), "dlcopy", failing, attempts=1)
        harness.consume(harness.broker("dlcopyq"), "dlcopyq", raw, topic=harness.topic + ".dlq")
        sent = traced(to_message(Sample(3, "key-3", datetime.now(timezone.utc)), harness.prefix, "corr-dl"))
        harness.broker().spine_publish(messages=[sent], timeout=10.0)
        assert arrived.wait(self.features.delivery_timeout), "no dead letter"
        letter = letters[0]
        assert (letter.key, letter.value) == (sent.key, sent.value)
        for name, value in sent.headers.items():
            assert letter.headers.get(name) == value, f"header {name!r} not kept: {letter.headers.get(name)!r}"
        assert letter.headers[Headers.ERROR_TYPE] == "ValueError"
        assert letter.headers[Headers.ERROR_MESSAGE] == "no stock"
        assert letter.headers[Headers.ORIGINAL_TOPIC] == harness.topic

    def test_abrupt_close_never_commits_past_a_stuck_message(self, harness: Harness) -> None:
        """With many messages in flight and one stuck in its handler, an abrupt close leaves the stuck
        one to the next member, and every message after it is handled at least once."""
        entered, release = threading.Event(), threading.Event()
        first = Recorder()
        events = samples(200, keys=20)
        stuck_id = 5

        def handler(event: Sample, message: IncomingMessage) -> None:
            if event.id == stuck_id:
                entered.set()
                release.wait(60)
                return
            first.add(Received(event, dict(message.headers), "a"))

        member = harness.broker("stuck")
        harness.consume(member, "stuck", handler)
        harness.publish(harness.broker(), events)
        try:
            assert entered.wait(self.features.delivery_timeout), "the stuck message never arrived"
            if self.features.keys_in_parallel:  # the others of other keys go on meanwhile
                others = {e.id for e in events if e.key_ != events[stuck_id].key_}
                first.wait_for(lambda items: others <= {r.event.id for r in items}, self.features.delivery_timeout,
                               "the messages of other keys")
            harness.close(member, timeout=0.0)
            second = Recorder()
            harness.consume(harness.broker("stuck"), "stuck", recording(second, "b"))
            second.wait_for(lambda items: stuck_id in [r.event.id for r in items], self.features.delivery_timeout,
                            "the stuck message, redelivered")
            everything = {e.id for e in events}
            second.wait_for(lambda items: everything <= set(first.ids()) | {r.event.id for r in items},
                            self.features.delivery_timeout, "every message handled at least once")
        finally:
            release.set()

    def test_key_order_across_a_rebalance(self, harness: Harness) -> None:
        """A member joins while a keyed stream is consumed: every event arrives, in order per key
        (with one member only where the broker keeps key order for one member)."""
        received = Recorder()

        def slow(event: Sample, message: IncomingMessage) -> None:
            time.sleep(0.002)  # work that takes time, so that the join happens mid-stream
            received.add(Received(event, dict(message.headers), "a"))

        harness.consume(harness.broker("rebalance"), "rebalance", slow)
        publisher = harness.broker()
        events = samples(600, keys=10)
        harness.publish(publisher, events[:300])
        received.wait_for(lambda items: len(items) >= 50, self.features.delivery_timeout, "the stream to start")
        if self.features.key_order_across_members:
            harness.consume(harness.broker("rebalance"), "rebalance", recording(received, "b"))
        for i in range(300, 600, 50):
            harness.publish(publisher, events[i:i + 50])
        received.wait_for(lambda items: {e.id for e in events} <= {r.event.id for r in items},
                          self.features.delivery_timeout * 2, "600 events")
        per_key: dict[str, list[int]] = {}
        for r in received.items:
            per_key.setdefault(r.event.key_, []).append(r.event.id)
        for key, ids in per_key.items():
            assert ids == sorted(ids), f"key {key} out of order across the rebalance: {ids}"

    def test_broker_outage_and_recovery(self, broker_outage: BrokerOutage) -> None:
        """The broker goes down while the app runs: publishing fails within its timeout, health is not
        ready; once it is back, publishing and consuming resume by themselves."""
        harness = Harness(broker_outage.make_broker, self.features)
        try:
            received = Recorder()
            consumer = harness.broker("outage")
            harness.consume(consumer, "outage", recording(received))
            publisher = harness.broker()
            harness.publish(publisher, samples(1))
            received.wait_for(lambda items: len(items) >= 1, self.features.delivery_timeout, "the first event")
            broker_outage.down()
            started = time.monotonic()
            with pytest.raises(PublishError):
                publisher.spine_publish(messages=[to_message(samples(1, start=1)[0], harness.prefix, "c")],
                                        timeout=2.0)
            assert time.monotonic() - started < 4.0, "publishing did not fail within its timeout"
            wait_until(lambda: not ready(publisher) and not ready(consumer), 15.0,
                       lambda: f"health not ready while the broker is down: {consumer.spine_broker_health()}")
            broker_outage.up()
            back = time.monotonic()
            wait_until(lambda: publishes_events(harness, publisher, samples(1, start=2)),
                       self.features.recovery_timeout, "publishing to work again")
            harness.wait_ready(consumer, self.features.recovery_timeout - (time.monotonic() - back))
            harness.wait_ready(publisher, 5.0)
            received.wait_for(lambda items: 2 in [r.event.id for r in items], self.features.delivery_timeout,
                              "an event published after the broker came back")
        finally:
            harness.close_all()
            broker_outage.up()

    def test_publish_after_close_raises_clearly(self, harness: Harness) -> None:
        """Publishing on a closed broker raises PublishError saying so, at once."""
        hook = harness.broker()
        harness.publish(hook, samples(1))
        harness.close(hook)
        started = time.monotonic()
        with pytest.raises(PublishError, match="clos"):
            hook.spine_publish(messages=[to_message(samples(1)[0], harness.prefix, "c")], timeout=5.0)
        assert time.monotonic() - started < 1.0

    def test_consumer_lag_reported(self, harness: Harness) -> None:
        """A consuming app reports the messages waiting for its group, down to 0 once all are handled."""
        entered, release = threading.Event(), threading.Event()
        handled = Recorder()

        def blocked(event: Sample, message: IncomingMessage) -> None:
            entered.set()
            release.wait(60)
            handled.add(Received(event, dict(message.headers), "a"))

        consumer = harness.broker("lag")
        harness.consume(consumer, "lag", blocked)
        harness.publish(harness.broker(), samples(300, keys=1))
        try:
            assert entered.wait(self.features.delivery_timeout), "the handler never started"
            wait_until(lambda: lag_of(consumer) >= 100, self.features.delivery_timeout,
                       lambda: f"lag of at least 100 (reported: {consumer.spine_consumer_lag()})")
        finally:
            release.set()
        handled.wait_for(lambda items: len(items) >= 300, self.features.delivery_timeout, "300 events")
        wait_until(lambda: lag_of(consumer) == 0, self.features.delivery_timeout,
                   lambda: f"lag 0 (reported: {consumer.spine_consumer_lag()})")

    def test_batch_handler_gets_batches_in_key_order(self, harness: Harness) -> None:
        """A ``list[Sample]`` handler gets every event once, in batches of at most ``max_batch``,
        each key's events in publish order; a failing event is retried alone and dead-lettered
        alone, the others of its batch are handled."""
        batches: list[list[int]] = []
        lock = threading.Lock()
        received = Recorder()

        def handle(events: list[Sample], message: IncomingMessage) -> None:
            with lock:
                batches.append([e.id for e in events])
            if any(e.id == 13 for e in events):
                raise ValueError("13 is refused")
            for event in events:
                received.add(Received(event, {}, "a"))

        dead = Recorder()
        harness.consume(harness.broker("batch"), "batch", handle, attempts=2, max_batch=50)
        harness.consume(harness.broker("batchq"), "batchq", recording(dead), topic=harness.topic + ".dlq")
        publisher = harness.broker()
        events = samples(300, keys=5)
        for i in range(0, 300, 100):
            harness.publish(publisher, events[i:i + 100])
        received.wait_for(lambda items: len(items) >= 299, self.features.delivery_timeout, "299 events")
        dead.wait_for(lambda items: len(items) >= 1, self.features.delivery_timeout, "the dead letter")
        assert dead.ids() == [13]
        assert sorted(received.ids()) == [i for i in range(300) if i != 13]
        assert all(1 <= len(b) <= 50 for b in batches)
        per_key: dict[str, list[int]] = {}
        for r in received.items:
            per_key.setdefault(r.event.key_, []).append(r.event.id)
        for key, ids in per_key.items():
            assert ids == sorted(ids), f"key {key} out of order"
