"""The broker conformance suite: what every broker plugin guarantees, checked.

A plugin's tests run it with a few lines (pytest required: ``pip install spine-core[testing]``)::

    from spine_core.testing.conformance import BrokerConformance

    class TestMyBrokerConformance(BrokerConformance):
        @pytest.fixture
        def make_broker(self):
            return lambda config: MyBrokerPlugin(config)

        @pytest.fixture
        def make_unreachable_broker(self):
            return lambda config: MyBrokerPlugin(evolve(config, settings={"url": "amqp://127.0.0.1:9"}))

        @pytest.fixture
        def broker_outage(self):
            return MyOutage()  # make_broker, down(), up(): a broker of the test's own to stop and start

Each broker object made in one test stands for one service process; brokers
made in the same test must reach the same broker (cluster). The suite drives
them only through the ``spine_*`` hooks, with the core's own encoding and
consumer pipeline, gives every test topics of its own, and waits on
conditions with deadlines. Where a broker's documented rule differs, a
:class:`Features` flag says so and the test checks that broker's own rule.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar, Protocol

import pluggy
import pytest
from attrs import evolve, frozen

from ..container import Container
from ..consumers.resolvers import consumer_resolver_for
from ..consumers.chain import subscription
from ..errors import PublishError
from ..event import converter
from ..messages import Headers, IncomingMessage, OutgoingMessage
from ..options import BrokerConfig, ReadOptions, RetryOptions, WriteOptions
from ..pipeline.dispatch import to_message
from ..pipeline.plan import make_plan
from ..plugins import plugin_manager

BrokerFactory = Callable[[BrokerConfig], object]


@frozen
class Features:
    """Where a broker's rules differ from Kafka's, and how long it may take.

    ``key_order_across_members``: events of one key stay in order even when a
    group has several members (Kafka and memory: a key lives on one partition
    owned by one member; RabbitMQ competing consumers: only with one member).

    ``keys_in_parallel``: one member handles messages of other keys while one
    handler is stuck (Kafka, RabbitMQ; memory delivers one message at a time).

    ``reach_timeout`` bounds the check, before each test, that the broker is
    reachable at all: an unreachable broker fails the suite in seconds.
    ``recovery_timeout``: after a broker came back, publishing and consuming
    work again within it.
    """

    key_order_across_members: bool = True
    keys_in_parallel: bool = True
    join_timeout: float = 30.0
    delivery_timeout: float = 30.0
    reach_timeout: float = 10.0
    recovery_timeout: float = 30.0


class Outage(Protocol):
    """A broker of a test's own that the test can take down and bring back."""

    def make_broker(self, config: BrokerConfig) -> object:
        """A plugin on this broker."""

    def down(self) -> None:
        """The broker goes away (stopped, or the network to it cut)."""

    def up(self) -> None:
        """The broker is back on the same address (possibly empty, like a restarted Tansu)."""


@frozen
class Sample:
    """The event the suite publishes."""

    id: int
    key_: str
    at: datetime
    text: str = "héllo, wörld"

    def name(self) -> str:
        return "sample.happened"

    def occurred_at(self) -> datetime:
        return self.at

    def key(self) -> str:
        return self.key_


@frozen
class Received:
    event: Sample
    headers: dict[str, str]
    member: str


class Recorder:
    """Thread-safe record of what handlers received, with deadline waits."""

    def __init__(self) -> None:
        self.items: list[Received] = []
        self._cond = threading.Condition()

    def add(self, item: Received) -> None:
        with self._cond:
            self.items.append(item)
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[list[Received]], bool], timeout: float, what: str) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: predicate(self.items), timeout):
                raise AssertionError(f"timed out after {timeout}s waiting for {what}; got {len(self.items)} item(s)")

    def ids(self) -> list[int]:
        with self._cond:
            return [r.event.id for r in self.items]


class Harness:
    """Brokers for one test: unique topic prefix and group names, everything closed at the end."""

    def __init__(self, make_broker: BrokerFactory, features: Features) -> None:
        self.make_broker = make_broker
        self.features = features
        self.prefix = f"conf-{uuid.uuid4().hex[:8]}."
        self.topic = self.prefix + Sample(0, "", datetime.now(timezone.utc)).name()
        self._open: list[pluggy.HookRelay] = []

    def broker(self, group: str | None = None, *, attempts: int = 3, factory: BrokerFactory | None = None) -> Any:
        """A started broker (its hook relay) as one process of group ``group``."""
        read = None
        if group is not None:
            retry = RetryOptions(attempts=attempts, initial_delay=0.01, max_delay=0.05)
            read = ReadOptions(group_id=self.prefix + group, retry=retry)
        config = BrokerConfig(
            name="conformance", topic_prefix=self.prefix, write=WriteOptions(publish_timeout=10.0),
            read=read, shutdown_timeout=10.0,
        )
        hook = plugin_manager((factory or self.make_broker)(config), "conformance").hook
        hook.spine_broker_start()
        self._open.append(hook)
        return hook

    def publish(self, hook: Any, events: list[Sample], correlation_id: str = "corr-1") -> None:
        hook.spine_publish(messages=[to_message(e, self.prefix, correlation_id) for e in events], timeout=10.0)

    def consume(
        self, hook: Any, group: str, handler: Callable[..., None], *, topic: str | None = None, attempts: int = 3,
        retry_delay: float = 0.01, stopping: threading.Event | None = None, max_batch: int = 100,
    ) -> None:
        """Subscribe ``handler`` (resolved by the core like any consumer) and wait until it is ready.

        ``stopping`` is the app's stop signal: once set, a handler waiting to be retried is given back (Nack)."""
        topic = topic or self.topic
        retry = RetryOptions(attempts=attempts, initial_delay=retry_delay, max_delay=max(retry_delay, 5.0))
        read = ReadOptions(group_id=self.prefix + group, retry=retry)
        plan = make_plan(handler, Container(), consumer_resolver_for(topic), [])
        sub = subscription(topic, plan, read, _no_publishing, stopping or threading.Event(), max_batch=max_batch)
        hook.spine_subscribe(group_id=read.group_id, subscriptions=[sub])
        self.wait_ready(hook)

    def wait_ready(self, hook: Any, timeout: float | None = None) -> None:
        timeout = self.features.join_timeout if timeout is None else timeout
        _wait(lambda: _ready(hook), timeout, lambda: f"consumer ready: {hook.spine_broker_health()}")

    def close(self, hook: Any, timeout: float = 10.0) -> None:
        if hook in self._open:
            self._open.remove(hook)
        hook.spine_broker_close(timeout=timeout)

    def close_all(self) -> None:
        for hook in reversed(self._open):
            hook.spine_broker_close(timeout=5.0)
        self._open.clear()


def _ready(hook: Any) -> bool:
    health = hook.spine_broker_health()
    return health is not None and bool(health.ready)


def _wait(condition: Callable[[], bool], timeout: float, what: Callable[[], str]) -> None:
    """Poll ``condition`` until it holds; fail naming ``what()`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what()}")
        time.sleep(0.05)


def _no_publishing(ctx: Any) -> None:
    raise AssertionError("conformance handlers do not publish")


def _samples(n: int, keys: int = 10, start: int = 0) -> list[Sample]:
    at = datetime(2026, 11, 25, 12, 0, tzinfo=timezone(timedelta(hours=9)))
    return [Sample(i, f"k{i % keys}", at + timedelta(seconds=i)) for i in range(start, start + n)]


def _recording(recorder: Recorder, member: str = "a") -> Callable[..., None]:
    def handle(event: Sample, message: IncomingMessage) -> None:
        recorder.add(Received(event, dict(message.headers), member))

    return handle


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
    def broker_outage(self) -> Outage:
        raise NotImplementedError("provide a broker_outage fixture: a broker the test can take down and up")

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
            _wait(lambda: _ready(hook), self.features.reach_timeout, lambda: "the broker")
        except AssertionError:
            cls.unreachable = f"not ready after {self.features.reach_timeout}s: {hook.spine_broker_health()}"
            pytest.fail(f"broker unreachable: {cls.unreachable}", pytrace=False)
        finally:
            harness.close(hook, timeout=1.0)

    def test_typed_event_roundtrip(self, harness: Harness) -> None:
        """A published event arrives decoded equal to what was sent, with Spine's headers."""
        received = Recorder()
        harness.consume(harness.broker("g"), "g", _recording(received))
        sent = _samples(1)[0]
        harness.publish(harness.broker(), [sent], correlation_id="corr-roundtrip")
        received.wait_for(lambda items: len(items) >= 1, self.features.delivery_timeout, "the event")
        got = received.items[0]
        assert got.event == sent
        assert got.event.at.utcoffset() == timedelta(hours=9)
        assert got.headers[Headers.EVENT_NAME] == "sample.happened"
        assert len(got.headers[Headers.EVENT_ID]) >= 16
        assert datetime.fromisoformat(got.headers[Headers.OCCURRED_AT]) == sent.at
        assert got.headers[Headers.CORRELATION_ID] == "corr-roundtrip"
        assert got.headers[Headers.CONTENT_TYPE] == "application/json"

    def test_topics_are_distinct_with_prefix(self, harness: Harness) -> None:
        """A consumer of the prefixed topic gets its events; one of another prefix gets none of them."""
        mine, other = Recorder(), Recorder()
        other_topic = "other." + harness.topic
        harness.consume(harness.broker("mine"), "mine", _recording(mine))
        harness.consume(harness.broker("other"), "other", _recording(other), topic=other_topic)
        publisher = harness.broker()
        harness.publish(publisher, _samples(5))
        marker = _samples(1, start=99)[0]
        publisher.spine_publish(messages=[to_message(marker, "other." + harness.prefix, "c")], timeout=10.0)
        mine.wait_for(lambda items: len(items) == 5, self.features.delivery_timeout, "5 events")
        other.wait_for(lambda items: len(items) >= 1, self.features.delivery_timeout, "the marker")
        assert other.ids() == [99]
        assert sorted(mine.ids()) == list(range(5))

    def test_each_group_receives_every_message(self, harness: Harness) -> None:
        """Two consumer groups each receive every message."""
        first, second = Recorder(), Recorder()
        harness.consume(harness.broker("one"), "one", _recording(first))
        harness.consume(harness.broker("two"), "two", _recording(second))
        harness.publish(harness.broker(), _samples(50))
        for recorder in (first, second):
            recorder.wait_for(lambda items: len(items) >= 50, self.features.delivery_timeout, "50 events")
            assert sorted(recorder.ids()) == list(range(50))

    def test_members_of_a_group_share_messages(self, harness: Harness) -> None:
        """Two members of one group split the messages: each handled once, by one of them."""
        received = Recorder()
        a, b = harness.broker("shared"), harness.broker("shared")
        harness.consume(a, "shared", _recording(received, "a"))
        harness.consume(b, "shared", _recording(received, "b"))
        harness.wait_ready(a)
        harness.publish(harness.broker(), _samples(200, keys=40))
        received.wait_for(lambda items: len(items) >= 200, self.features.delivery_timeout, "200 events")
        assert sorted(received.ids()) == list(range(200)), "a message was lost or handled twice"
        members = {r.member for r in received.items}
        assert members == {"a", "b"}, f"only {members} received messages"

    def test_per_key_order(self, harness: Harness) -> None:
        """1,000 events over 10 keys arrive in publish order per key."""
        received = Recorder()
        harness.consume(harness.broker("order"), "order", _recording(received))
        if self.features.key_order_across_members:
            harness.consume(harness.broker("order"), "order", _recording(received, "b"))
        publisher = harness.broker()
        events = _samples(1000, keys=10)
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
        harness.publish(harness.broker(), _samples(1))
        done.wait_for(lambda items: len(items) >= 1, self.features.delivery_timeout, "the handled event")
        assert calls == [0, 0, 0]
        assert done.ids() == [0]

    def test_failing_message_dead_lettered_and_later_ones_handled(self, harness: Harness) -> None:
        """A message whose handler always fails ends in ``<topic>.dlq`` with the reason; later ones go on."""
        handled, dead = Recorder(), Recorder()

        def handler(event: Sample, message: IncomingMessage) -> None:
            if event.id == 0:
                raise ValueError("stock unavailable")
            handled.add(Received(event, dict(message.headers), "a"))

        harness.consume(harness.broker("dl"), "dl", handler, attempts=2)
        harness.consume(harness.broker("dlq"), "dlq", _recording(dead), topic=harness.topic + ".dlq")
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

    def test_undecodable_payload_dead_lettered_at_once(self, harness: Harness) -> None:
        """A payload that does not decode into the event goes to ``<topic>.dlq`` without retries."""
        handled, dead = Recorder(), Recorder()
        harness.consume(harness.broker("bad"), "bad", _recording(handled))
        seen: list[bytes] = []

        def raw(payload: bytes, message: IncomingMessage) -> None:
            seen.append(payload)
            dead.add(Received(Sample(len(seen), "", datetime.now(timezone.utc)), dict(message.headers), "dlq"))

        harness.consume(harness.broker("badq"), "badq", raw, topic=harness.topic + ".dlq")
        publisher = harness.broker()
        poison = OutgoingMessage(harness.topic, b"{not json", "k", {Headers.EVENT_NAME: "sample.happened"})
        publisher.spine_publish(messages=[poison], timeout=10.0)
        harness.publish(publisher, _samples(1, start=7))
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
        harness.publish(harness.broker(), _samples(1))
        assert entered.wait(self.features.delivery_timeout), "the first member never got the message"
        harness.close(member, timeout=0.0)
        received = Recorder()
        harness.consume(harness.broker("redeliver"), "redeliver", _recording(received, "b"))
        try:
            received.wait_for(lambda items: 0 in [r.event.id for r in items], self.features.delivery_timeout,
                              "the redelivered message")
        finally:
            release.set()
        assert first == [0]

    def test_concurrent_publishers_lose_and_duplicate_nothing(self, harness: Harness) -> None:
        """16 threads × 500 events published at once all arrive exactly once."""
        received = Recorder()
        harness.consume(harness.broker("many"), "many", _recording(received))
        publisher = harness.broker()
        errors: list[BaseException] = []

        def publish_range(thread: int) -> None:
            try:
                for event in _samples(500, start=thread * 500):
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
        harness.publish(publisher, _samples(1))
        assert entered.wait(self.features.delivery_timeout), "the handler never started"
        closer = threading.Thread(target=harness.close, args=(member, 20.0))
        closer.start()
        closer.join(0.3)
        assert closer.is_alive(), "close returned while the handler was still running"
        release.set()
        closer.join(20)
        assert not closer.is_alive() and finished == [0]
        after = Recorder()
        harness.consume(harness.broker("graceful"), "graceful", _recording(after))
        harness.publish(publisher, _samples(1, start=1))
        after.wait_for(lambda items: len(items) >= 1, self.features.delivery_timeout, "the next event")
        assert after.ids() == [1], "the finished message was delivered again"

    def test_publish_fails_clearly_within_timeout(self, make_unreachable_broker: BrokerFactory) -> None:
        """Publishing while the broker cannot deliver raises PublishError within the publish timeout."""
        harness = Harness(make_unreachable_broker, self.features)
        try:
            hook = harness.broker()
            started = time.monotonic()
            with pytest.raises(PublishError):
                hook.spine_publish(messages=[to_message(_samples(1)[0], harness.prefix, "c")], timeout=1.0)
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
        harness.publish(harness.broker(), _samples(1))
        assert failed.wait(self.features.delivery_timeout), "the handler never got the message"
        stopping.set()
        harness.close(member, timeout=5.0)
        received = Recorder()
        harness.consume(harness.broker("nack"), "nack", _recording(received, "b"))
        received.wait_for(lambda items: 0 in [r.event.id for r in items], self.features.delivery_timeout,
                          "the message given back")
        assert calls == [0], "the first member retried after it was stopped"

    def test_publisher_headers_arrive_unchanged(self, harness: Harness) -> None:
        """``traceparent`` and a custom header set by the publisher arrive as they were sent."""
        received = Recorder()
        harness.consume(harness.broker("headers"), "headers", _recording(received))
        sent = _traced(to_message(_samples(1)[0], harness.prefix, "corr-headers"))
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
        sent = _traced(to_message(Sample(3, "key-3", datetime.now(timezone.utc)), harness.prefix, "corr-dl"))
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
        events = _samples(200, keys=20)
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
            harness.consume(harness.broker("stuck"), "stuck", _recording(second, "b"))
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
        events = _samples(600, keys=10)
        harness.publish(publisher, events[:300])
        received.wait_for(lambda items: len(items) >= 50, self.features.delivery_timeout, "the stream to start")
        if self.features.key_order_across_members:
            harness.consume(harness.broker("rebalance"), "rebalance", _recording(received, "b"))
        for i in range(300, 600, 50):
            harness.publish(publisher, events[i:i + 50])
        received.wait_for(lambda items: {e.id for e in events} <= {r.event.id for r in items},
                          self.features.delivery_timeout * 2, "600 events")
        per_key: dict[str, list[int]] = {}
        for r in received.items:
            per_key.setdefault(r.event.key_, []).append(r.event.id)
        for key, ids in per_key.items():
            assert ids == sorted(ids), f"key {key} out of order across the rebalance: {ids}"

    def test_broker_outage_and_recovery(self, broker_outage: Outage) -> None:
        """The broker goes down while the app runs: publishing fails within its timeout, health is not
        ready; once it is back, publishing and consuming resume by themselves."""
        harness = Harness(broker_outage.make_broker, self.features)
        try:
            received = Recorder()
            consumer = harness.broker("outage")
            harness.consume(consumer, "outage", _recording(received))
            publisher = harness.broker()
            harness.publish(publisher, _samples(1))
            received.wait_for(lambda items: len(items) >= 1, self.features.delivery_timeout, "the first event")
            broker_outage.down()
            started = time.monotonic()
            with pytest.raises(PublishError):
                publisher.spine_publish(messages=[to_message(_samples(1, start=1)[0], harness.prefix, "c")],
                                        timeout=2.0)
            assert time.monotonic() - started < 4.0, "publishing did not fail within its timeout"
            _wait(lambda: not _ready(publisher) and not _ready(consumer), 15.0,
                  lambda: f"health not ready while the broker is down: {consumer.spine_broker_health()}")
            broker_outage.up()
            back = time.monotonic()
            _wait(lambda: _publishes(harness, publisher, _samples(1, start=2)), self.features.recovery_timeout,
                  lambda: "publishing to work again")
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
        harness.publish(hook, _samples(1))
        harness.close(hook)
        started = time.monotonic()
        with pytest.raises(PublishError, match="clos"):
            hook.spine_publish(messages=[to_message(_samples(1)[0], harness.prefix, "c")], timeout=5.0)
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
        harness.publish(harness.broker(), _samples(300, keys=1))
        try:
            assert entered.wait(self.features.delivery_timeout), "the handler never started"
            _wait(lambda: _lag(consumer) >= 100, self.features.delivery_timeout,
                  lambda: f"lag of at least 100 (reported: {consumer.spine_consumer_lag()})")
        finally:
            release.set()
        handled.wait_for(lambda items: len(items) >= 300, self.features.delivery_timeout, "300 events")
        _wait(lambda: _lag(consumer) == 0, self.features.delivery_timeout,
              lambda: f"lag 0 (reported: {consumer.spine_consumer_lag()})")


def _traced(message: OutgoingMessage) -> OutgoingMessage:
    """``message`` with a W3C ``traceparent`` and a custom header, as a traced publisher sends it."""
    extra = {Headers.TRACEPARENT: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "x-tenant": "ünï-42"}
    return evolve(message, headers={**message.headers, **extra})


def _publishes(harness: Harness, hook: Any, events: list[Sample]) -> bool:
    try:
        hook.spine_publish(messages=[to_message(e, harness.prefix, "c") for e in events], timeout=2.0)
    except PublishError:
        return False
    return True


def _lag(hook: Any) -> int:
    lag = hook.spine_consumer_lag()
    return -1 if lag is None else sum(lag.values())

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
        harness.consume(harness.broker("batchq"), "batchq", _recording(dead), topic=harness.topic + ".dlq")
        publisher = harness.broker()
        events = _samples(300, keys=5)
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


# -- Dead letters: spine_dlq_list and spine_dlq_replay -------------------------


class Failing:
    """A handler that fails for the event ids in ``failing`` and records the others."""

    def __init__(self, failing: set[int]) -> None:
        self.failing = failing
        self.handled = Recorder()

    def handle(self, event: Sample, message: IncomingMessage) -> None:
        if event.id in self.failing:
            raise ValueError(f"event {event.id} refused")
        self.handled.add(Received(event, dict(message.headers), "a"))


def wait_listed(hook: Any, topic: str, count: int, timeout: float) -> list[Any]:
    """``spine_dlq_list`` of ``topic`` once it lists ``count`` dead letters (polled until ``timeout``)."""
    deadline = time.monotonic() + timeout
    while len(listed := list(hook.spine_dlq_list(topic=topic, timeout=10.0))) != count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{topic} lists {len(listed)} dead letter(s) after {timeout}s, not {count}")
        time.sleep(0.1)
    return listed


class DeadLetterConformance:
    """The dead-letter hooks: subclass as ``Test...`` with a ``make_broker`` fixture, as for
    :class:`BrokerConformance` (and the same ``features``)."""

    features: ClassVar[Features] = Features()

    @pytest.fixture
    def make_broker(self) -> BrokerFactory:
        raise NotImplementedError("provide a make_broker fixture: BrokerConfig -> plugin object")

    @pytest.fixture
    def harness(self, make_broker: BrokerFactory) -> Iterator[Harness]:
        h = Harness(make_broker, self.features)
        yield h
        h.close_all()

    def _dead_letters(self, harness: Harness, failing: set[int], count: int) -> tuple[Any, Failing, list[Any]]:
        """Consume with a handler failing ``failing`` (one attempt), publish ``count`` events and
        wait until the failing ones are listed; the inspecting broker, the handler, the listing."""
        handler = Failing(failing)
        harness.consume(harness.broker("svc"), "svc", handler.handle, attempts=1)
        # One key: handled, and so dead-lettered, one at a time (Tansu loses one of two messages
        # produced at once to one partition by one producer; that is not what these tests check).
        harness.publish(harness.broker(), _samples(count, keys=1))
        handler.handled.wait_for(lambda items: len(items) >= count - len(failing),
                                 self.features.delivery_timeout, "the handled events")
        inspector = harness.broker()
        listed = wait_listed(inspector, harness.topic + ".dlq", len(failing), self.features.delivery_timeout)
        return inspector, handler, listed

    def test_dead_letters_listed_with_their_reason_and_listing_changes_nothing(self, harness: Harness) -> None:
        inspector, _, listed = self._dead_letters(harness, {1, 3}, 5)
        dlq = harness.topic + ".dlq"
        events = sorted((converter.structure(json.loads(d.value), Sample) for d in listed), key=lambda e: e.id)
        assert [e.id for e in events] == [1, 3]
        for letter in listed:
            assert letter.topic == dlq
            assert letter.key == letter.headers[Headers.KEY]
            assert letter.event_id and letter.headers[Headers.EVENT_NAME] == "sample.happened"
            assert letter.headers[Headers.ERROR_TYPE] == "ValueError"
            assert letter.headers[Headers.ATTEMPTS] == "1"
            assert letter.headers[Headers.ORIGINAL_TOPIC] == harness.topic
            assert letter.headers[Headers.DEAD_LETTERED_AT]
            assert letter.position
        again = inspector.spine_dlq_list(topic=dlq, timeout=10.0)
        assert [(d.event_id, d.value) for d in again] == [(d.event_id, d.value) for d in listed], again

    def test_a_topic_without_dead_letters_lists_none(self, harness: Harness) -> None:
        assert list(harness.broker().spine_dlq_list(topic=harness.prefix + "nothing.dlq", timeout=10.0)) == []

    def test_replay_by_event_id_publishes_it_back_without_the_reason(self, harness: Harness) -> None:
        inspector, handler, listed = self._dead_letters(harness, {1, 3}, 5)
        dlq = harness.topic + ".dlq"
        by_id = {json.loads(d.value)["id"]: d for d in listed}
        handler.failing.clear()  # the consumer is fixed
        replayed = inspector.spine_dlq_replay(topic=dlq, event_ids=[by_id[3].event_id], timeout=10.0)
        assert [d.event_id for d in replayed] == [by_id[3].event_id], f"replayed {replayed}"
        handler.handled.wait_for(lambda items: 3 in [r.event.id for r in items],
                                 self.features.delivery_timeout, "the replayed event")
        again = [r for r in handler.handled.items if r.event.id == 3][0]
        assert again.headers[Headers.EVENT_ID] == by_id[3].event_id
        assert again.headers[Headers.CORRELATION_ID] == "corr-1"
        assert not [h for h in again.headers if h.startswith(Headers.DEAD_LETTER_PREFIX)], again.headers
        left = wait_listed(inspector, dlq, 1, self.features.delivery_timeout)
        assert [d.event_id for d in left] == [by_id[1].event_id], f"left {left}"

    def test_replay_all_empties_the_listing(self, harness: Harness) -> None:
        inspector, handler, listed = self._dead_letters(harness, {0, 2}, 4)
        dlq = harness.topic + ".dlq"
        handler.failing.clear()
        replayed = inspector.spine_dlq_replay(topic=dlq, event_ids=None, timeout=10.0)
        assert sorted(d.event_id for d in replayed) == sorted(d.event_id for d in listed), f"replayed {replayed}"
        handler.handled.wait_for(lambda items: len(items) >= 4, self.features.delivery_timeout, "every event")
        assert sorted(handler.handled.ids()) == [0, 1, 2, 3]
        assert list(inspector.spine_dlq_list(topic=dlq, timeout=10.0)) == []

    def test_an_unknown_event_id_replays_nothing(self, harness: Harness) -> None:
        inspector, _, listed = self._dead_letters(harness, {1}, 2)
        dlq = harness.topic + ".dlq"
        assert list(inspector.spine_dlq_replay(topic=dlq, event_ids=["no-such-id"], timeout=10.0)) == []
        assert [d.event_id for d in inspector.spine_dlq_list(topic=dlq, timeout=10.0)] == [listed[0].event_id]

    def test_a_replayed_message_that_fails_again_is_listed_again(self, harness: Harness) -> None:
        inspector, handler, listed = self._dead_letters(harness, {1}, 2)
        dlq = harness.topic + ".dlq"
        inspector.spine_dlq_replay(topic=dlq, event_ids=None, timeout=10.0)  # still failing
        deadline = time.monotonic() + self.features.delivery_timeout
        while [d.headers[Headers.DEAD_LETTERED_AT] for d in inspector.spine_dlq_list(topic=dlq, timeout=10.0)] in (
            [], [listed[0].headers[Headers.DEAD_LETTERED_AT]]
        ):
            assert time.monotonic() < deadline, "the replayed message was not dead-lettered again"
            time.sleep(0.1)
        again = inspector.spine_dlq_list(topic=dlq, timeout=10.0)
        assert [d.event_id for d in again] == [listed[0].event_id]
