"""Prometheus metrics of one runtime: HTTP requests, published events, consumed messages, consumer lag.

Each runtime has its own registry, so several apps in one process (or test)
count apart. Labels are route templates, methods, statuses, topic names and
outcomes, never raw paths or ids. Label children are bound once per label set
and reused, so counting costs a dict lookup and a locked add.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Final

import falcon
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .messages import OutgoingMessage

OK: Final = "ok"
FAILED: Final = "failed"
RETRIED: Final = "retried"
DEAD_LETTERED: Final = "dead_lettered"
UNDECODABLE: Final = "undecodable"
NACKED: Final = "nacked"

Lag = Callable[[], "Mapping[tuple[str, int], int] | None"]


class ConsumerMetrics:
    """The children of one subscribed topic, bound at boot."""

    __slots__ = ("outcomes", "duration", "in_flight")

    def __init__(self, metrics: Metrics, topic: str) -> None:
        self.outcomes = {
            o: metrics.consumed.labels(topic, o) for o in (OK, RETRIED, DEAD_LETTERED, UNDECODABLE, NACKED)
        }
        self.duration = metrics.handler_duration.labels(topic)
        self.in_flight = metrics.in_flight.labels(topic)


class Metrics:
    """The metric families of one runtime and the registry that exposes them."""

    def __init__(self, lag: Lag | None = None, group_id: str | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        for default in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            self.registry.register(default)
        r = self.registry
        self.http_requests = Counter(
            "spine_http_requests", "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"], registry=r,
        )
        self.http_duration = Histogram(
            "spine_http_request_duration_seconds", "Time to answer an HTTP request, by route template and method.",
            ["route", "method"], registry=r,
        )
        self.published = Counter(
            "spine_events_published", "Events handed to the broker, by topic and outcome (ok, failed).",
            ["topic", "outcome"], registry=r,
        )
        self.publish_duration = Histogram(
            "spine_publish_duration_seconds", "Time until the broker confirmed (or refused) a publish, by topic.",
            ["topic"], registry=r,
        )
        self.consumed = Counter(
            "spine_messages_consumed",
            "Consumed messages by topic and outcome (ok, retried, dead_lettered, undecodable, nacked); "
            "retried counts failed attempts that were retried.",
            ["topic", "outcome"], registry=r,
        )
        self.handler_duration = Histogram(
            "spine_handler_duration_seconds", "Time of one consumer handler attempt, by topic.",
            ["topic"], registry=r,
        )
        self.in_flight = Gauge(
            "spine_messages_in_flight", "Messages being handled now, by topic.", ["topic"], registry=r,
        )
        if lag is not None:
            r.register(LagCollector(lag, group_id or ""))
        self._http: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self._publish: dict[str, tuple[Counter, Counter, Histogram]] = {}

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        key = (route, method, status)
        children = self._http.get(key)
        if children is None:
            children = self._http[key] = (
                self.http_requests.labels(route, method, str(status)), self.http_duration.labels(route, method)
            )
        children[0].inc()
        children[1].observe(seconds)

    def observe_publish(self, messages: Sequence[OutgoingMessage], ok: bool, seconds: float) -> None:
        """Count ``messages`` published (or not) in one call that took ``seconds``."""
        for m in messages:
            children = self._publish.get(m.topic)
            if children is None:
                t = m.topic
                children = self._publish[t] = (
                    self.published.labels(t, OK), self.published.labels(t, FAILED), self.publish_duration.labels(t)
                )
            (children[0] if ok else children[1]).inc()
            children[2].observe(seconds)

    def consumer(self, topic: str) -> ConsumerMetrics:
        """The pre-bound children of subscribed ``topic``."""
        return ConsumerMetrics(self, topic)

    def exposition(self) -> bytes:
        """Every metric in Prometheus's text format."""
        return generate_latest(self.registry)


class LagCollector(Collector):
    """``spine_consumer_lag``: asks the broker plugin at scrape time; nothing if it cannot tell."""

    def __init__(self, lag: Lag, group_id: str) -> None:
        self._lag = lag
        self._group_id = group_id

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        lags = self._lag()
        if lags is None:
            return
        family = GaugeMetricFamily(
            "spine_consumer_lag", "Messages not yet consumed, by consumer group, topic and partition.",
            labels=["group", "topic", "partition"],
        )
        for (topic, partition), lag in sorted(lags.items()):
            family.add_metric([self._group_id, topic, str(partition)], lag)
        yield family


class MetricsResource:
    """``GET /metrics``: the runtime's metrics in Prometheus's text format."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = CONTENT_TYPE_LATEST
        resp.data = self._metrics.exposition()
