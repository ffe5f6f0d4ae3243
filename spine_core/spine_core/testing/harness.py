"""The harness of the conformance suites: brokers made through the ``spine_*`` hooks alone, the
event they publish, and waits on conditions with deadlines.

Each broker object made in one test stands for one service process; brokers
made in the same test must reach the same broker (cluster). The harness gives
every test topics and groups of its own and closes what it started.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

import pluggy
from attrs import evolve, frozen

from ..codecs.base import Codec
from ..codecs.choice import builtin
from ..codecs.json import JSON
from ..consumers.chain import subscription
from ..consumers.resolvers import consumer_resolver_for
from ..container import Container
from ..errors import PublishError
from ..event import to_message
from ..messages import Headers, IncomingMessage, OutgoingMessage
from ..options import BrokerConfig, ReadOptions, RetryOptions, WriteOptions
from ..pipeline.plan import make_plan
from ..plugins import BrokerFactory, plugin_manager
from .kit import wait_until


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

    ``cannot_stop``: why the tests cannot take this broker down (a managed cluster,
    say); the outage tests are then skipped with that reason, and the plugin provides
    no ``broker_outage`` fixture.
    """

    key_order_across_members: bool = True
    keys_in_parallel: bool = True
    join_timeout: float = 30.0
    delivery_timeout: float = 30.0
    reach_timeout: float = 10.0
    recovery_timeout: float = 30.0
    cannot_stop: str | None = None


class BrokerOutage(Protocol):
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
        self.codec: Codec = JSON
        """The codec ``publish`` encodes with (the suites' codec-parametrized tests set it)."""

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
        messages = [to_message(e, self.prefix, correlation_id, codec=self.codec) for e in events]
        hook.spine_publish(messages=messages, timeout=10.0)

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
        sub = subscription(topic, plan, read, no_publishing, stopping or threading.Event(), max_batch=max_batch)
        hook.spine_subscribe(group_id=read.group_id, subscriptions=[sub])
        self.wait_ready(hook)

    def wait_ready(self, hook: Any, timeout: float | None = None) -> None:
        timeout = self.features.join_timeout if timeout is None else timeout
        wait_until(lambda: ready(hook), timeout, lambda: f"consumer ready: {hook.spine_broker_health()}")

    def close(self, hook: Any, timeout: float = 10.0) -> None:
        if hook in self._open:
            self._open.remove(hook)
        hook.spine_broker_close(timeout=timeout)

    def close_all(self) -> None:
        for hook in reversed(self._open):
            hook.spine_broker_close(timeout=5.0)
        self._open.clear()


CODECS: tuple[Codec, ...] = builtin()
"""The codecs the round-trip and dead-letter tests run with, each once."""


def codec_id(codec: Codec) -> str:
    """A test id naming ``codec``: ``json``, ``msgpack``."""
    return codec.content_type.rsplit("/", 1)[-1].removeprefix("x-")


def ready(hook: Any) -> bool:
    health = hook.spine_broker_health()
    return health is not None and bool(health.ready)


def no_publishing(ctx: Any) -> None:
    raise AssertionError("conformance handlers do not publish")


def samples(n: int, keys: int = 10, start: int = 0) -> list[Sample]:
    at = datetime(2026, 11, 25, 12, 0, tzinfo=timezone(timedelta(hours=9)))
    return [Sample(i, f"k{i % keys}", at + timedelta(seconds=i)) for i in range(start, start + n)]


def recording(recorder: Recorder, member: str = "a") -> Callable[..., None]:
    def handle(event: Sample, message: IncomingMessage) -> None:
        recorder.add(Received(event, dict(message.headers), member))

    return handle


def traced(message: OutgoingMessage) -> OutgoingMessage:
    """``message`` with a W3C ``traceparent`` and a custom header, as a traced publisher sends it."""
    extra = {Headers.TRACEPARENT: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "x-tenant": "ünï-42"}
    return evolve(message, headers={**message.headers, **extra})


def publishes_events(harness: Harness, hook: Any, events: list[Sample]) -> bool:
    try:
        hook.spine_publish(messages=[to_message(e, harness.prefix, "c") for e in events], timeout=2.0)
    except PublishError:
        return False
    return True


def lag_of(hook: Any) -> int:
    lag = hook.spine_consumer_lag()
    return -1 if lag is None else sum(lag.values())
