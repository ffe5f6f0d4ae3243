"""Prometheus metrics of one runtime: HTTP requests, published events, consumed messages, consumer lag.

Each runtime has its own registry, so several apps in one process (or test)
count apart. Labels are route templates, methods, statuses, topic names and
outcomes, never raw paths or ids.

PERF: counting is on every request and message, so it takes no lock and makes
no prometheus_client child call (each takes a lock): each thread adds to numbers
of its own, a scrape sums them and hands the totals to prometheus_client, which
formats them. ``python -m bench.metrics_overhead`` measures the cost. With worker processes
each scrape adds the other workers' numbers (:mod:`.peers`). The Prometheus side
(:mod:`.exposition`) is imported at the first scrape.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from time import perf_counter
from functools import cached_property
from typing import TYPE_CHECKING, Final, Union

from ..messages import (
    ACK, NACK, SKIPPED, DeadLetter, Deliver, Headers, IncomingMessage, Nack, OutgoingMessage, Settlement,
)
from .peers import Peers, add, shared_directory

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

OK: Final = "ok"
FAILED: Final = "failed"
RETRIED: Final = "retried"
DEAD_LETTERED: Final = "dead_lettered"
UNDECODABLE: Final = "undecodable"
NACKED: Final = "nacked"
SKIPPED_OUTCOME: Final = "skipped"
OUTCOMES: Final = (OK, RETRIED, DEAD_LETTERED, UNDECODABLE, NACKED, SKIPPED_OUTCOME)

METHODS: Final = frozenset(("CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"))
"""The ``method`` label values; any other method a client invents counts as :data:`OTHER`."""
OTHER: Final = "other"

BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Upper bounds (seconds) of every latency histogram; ``+Inf`` follows."""

Lag = Callable[[], Union[Mapping[tuple[str, int], int], None]]
Key = tuple[str, ...]
"""A series: the family's name, then its label values in the family's label order."""


class Shards:
    """Latency histograms observed by many threads without a lock: one dict per thread of
    ``key -> [bucket counts..., sum]``, summed when read. A key's count is its buckets' sum,
    so one ``observe`` makes both a counter and a histogram."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._shards: list[dict[Key, list[float]]] = []
        self._lock = threading.Lock()

    def observe(self, key: Key, seconds: float) -> None:
        try:
            shard: dict[Key, list[float]] = self._local.shard
        except AttributeError:
            shard = self._local.shard = {}
            with self._lock:
                self._shards.append(shard)
        slots = shard.get(key)
        if slots is None:
            slots = shard[key] = [0.0] * (len(BUCKETS) + 2)
        slots[bisect_left(BUCKETS, seconds)] += 1
        slots[-1] += seconds

    def totals(self) -> dict[Key, list[float]]:
        """Every key summed over the shards."""
        with self._lock:
            shards = [s.copy() for s in self._shards]  # dict.copy holds the GIL: no torn read
        totals: dict[Key, list[float]] = {}
        for shard in shards:
            for key, slots in shard.items():
                _add_into(totals, key, list(slots))
        return totals


def _add_into(totals: dict[Key, list[float]], key: Key, slots: list[float]) -> None:
    into = totals.get(key)
    if into is None:
        totals[key] = slots
    else:
        for i, v in enumerate(slots):
            into[i] += v


def outcome(settlement: Settlement) -> str:
    """The ``outcome`` label of a settled message."""
    if isinstance(settlement, DeadLetter):
        return UNDECODABLE if settlement.reason.get(Headers.ATTEMPTS) == "0" else DEAD_LETTERED
    if settlement is SKIPPED:
        return SKIPPED_OUTCOME
    return NACKED if isinstance(settlement, Nack) else OK


class ConsumerMetrics:
    """One subscribed topic's numbers. PERF: per thread one flat list (in flight, one slot per
    outcome, the duration buckets, their sum), so a message costs no hashing and no lock."""

    _OUTCOME = {o: i for i, o in enumerate(OUTCOMES, start=1)}
    _BUCKET = 1 + len(OUTCOMES)

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self._local = threading.local()
        self._all: list[list[float]] = []
        self._lock = threading.Lock()

    def slots(self) -> list[float]:
        """This thread's list."""
        try:
            return self._local.slots  # type: ignore[no-any-return]
        except AttributeError:
            slots = [0.0] * (self._BUCKET + len(BUCKETS) + 2)
            with self._lock:
                self._all.append(slots)
            self._local.slots = slots
            return slots

    def counted(self, deliver: Deliver) -> Deliver:
        """``deliver`` with its messages counted: in flight, outcome, time to settle."""
        local, slots_of, slot, bucket = self._local, self.slots, self._OUTCOME, self._BUCKET

        def counted(message: IncomingMessage) -> Settlement:
            try:
                slots: list[float] = local.slots
            except AttributeError:
                slots = slots_of()
            slots[0] += 1
            started = perf_counter()
            settlement: Settlement = NACK
            try:
                settlement = deliver(message)
                return settlement
            finally:
                seconds = perf_counter() - started
                slots[0] -= 1
                slots[slot[OK if settlement is ACK else outcome(settlement)]] += 1
                slots[bucket + bisect_left(BUCKETS, seconds)] += 1
                slots[-1] += seconds

        return counted

    def observe(self, settlements: Sequence[Settlement], seconds: float) -> None:
        """Count the messages of a batch, each settled after ``seconds``: one bucket and one
        sum update for the batch, an outcome lookup only for what is not a plain ``Ack``."""
        slots, slot = self.slots(), self._OUTCOME
        acked = 0
        for settlement in settlements:
            if settlement is ACK:
                acked += 1
            else:
                slots[slot[outcome(settlement)]] += 1
        slots[slot[OK]] += acked
        slots[self._BUCKET + bisect_left(BUCKETS, seconds)] += len(settlements)
        slots[-1] += seconds * len(settlements)

    def in_flight(self, count: int) -> None:
        """``count`` more messages (fewer, if negative) being handled now."""
        self.slots()[0] += count

    def retried(self) -> None:
        self.slots()[self._OUTCOME[RETRIED]] += 1

    def series(self) -> dict[Key, float | list[float]]:
        """The topic's series, summed over the threads."""
        with self._lock:
            copies = [list(s) for s in self._all]  # list() holds the GIL: no torn read
        total = [sum(column) for column in zip(*copies)] or [0.0] * (self._BUCKET + len(BUCKETS) + 2)
        series: dict[Key, float | list[float]] = {
            ("spine_messages_consumed", self.topic, o): total[i] for o, i in self._OUTCOME.items()
        }
        series[("spine_messages_in_flight", self.topic)] = total[0]
        series[("spine_message_duration_seconds", self.topic)] = total[self._BUCKET:]
        return series


class Metrics:
    """The metrics of one runtime and the registry that exposes them."""

    def __init__(self, lag: Lag | None = None, group_id: str | None = None) -> None:
        self.shards = Shards()
        self.consumers: list[ConsumerMetrics] = []
        directory = shared_directory()
        self.peers = Peers(directory, self.series) if directory is not None else None
        """The sibling worker processes, whose numbers each scrape adds (None: a single process)."""
        self._lag = lag
        self._group_id = group_id or ""

    @cached_property
    def registry(self) -> CollectorRegistry:
        """The Prometheus registry exposing these numbers, made at the first scrape (or read):
        prometheus_client and what it imports (~1.3 MB) stay out of a service nobody scrapes."""
        from .exposition import registry

        return registry(self.scraped, BUCKETS, self._lag, self._group_id)

    def series(self) -> dict[Key, float | list[float]]:
        """This process's series, summed over its threads: counters, gauges and histogram buckets."""
        totals: dict[Key, float | list[float]] = {}
        histograms: dict[Key, list[float]] = {}
        for key, slots in self.shards.totals().items():
            if key[0] == "http":  # route, method, status
                totals[("spine_http_requests",) + key[1:]] = sum(slots[:-1])
                _add_into(histograms, ("spine_http_request_duration_seconds",) + key[1:3], slots)
            else:  # publish: topic, outcome
                totals[("spine_events_published",) + key[1:]] = sum(slots[:-1])
                _add_into(histograms, ("spine_publish_duration_seconds", key[1]), slots)
        totals.update(histograms)
        for consumer in self.consumers:
            totals.update(consumer.series())
        return totals

    def scraped(self) -> dict[Key, float | list[float]]:
        """What a scrape shows: :meth:`series`, plus the other worker processes' numbers."""
        totals = self.series()
        if self.peers is not None:
            add(totals, self.peers.others())
        return totals

    def close(self) -> None:
        """Leave this worker's final numbers to its siblings' scrapes (nothing in a single process)."""
        if self.peers is not None:
            self.peers.close()

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request; a method that is not a standard HTTP one counts as ``other``."""
        self.shards.observe(("http", route, method if method in METHODS else OTHER, str(status)), seconds)

    def observe_publish(self, messages: Sequence[OutgoingMessage], ok: bool, seconds: float) -> None:
        """Count ``messages`` published (or not) in one call that took ``seconds``."""
        outcome = OK if ok else FAILED
        for m in messages:
            self.shards.observe(("publish", m.topic, outcome), seconds)

    def consumer(self, topic: str) -> ConsumerMetrics:
        """The numbers of subscribed ``topic`` (its series show at zero from now on)."""
        consumer = ConsumerMetrics(topic)
        self.consumers.append(consumer)
        return consumer

    def exposition(self) -> bytes:
        """Every metric in Prometheus's text format."""
        from prometheus_client import generate_latest

        return generate_latest(self.registry)
