"""The Prometheus side of :mod:`.metrics`: collectors that turn the summed numbers into metric
families at scrape time. Imported at a runtime's first scrape, with prometheus_client."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Final, Union

from prometheus_client import GC_COLLECTOR, PLATFORM_COLLECTOR, PROCESS_COLLECTOR, CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

Series = Mapping[tuple[str, ...], Union[float, list[float]]]
"""The summed numbers, as :meth:`.metrics.Metrics.scraped` gives them."""
Lag = Callable[[], Union[Mapping[tuple[str, int], int], None]]

_FAMILIES: Final = {
    # name: (type, help, label names)
    "spine_http_requests": ("counter", "HTTP requests answered, by route template, method and status.",
                            ("route", "method", "status")),
    "spine_http_request_duration_seconds": ("histogram", "Time to answer an HTTP request, by route template "
                                            "and method.", ("route", "method")),
    "spine_events_published": ("counter", "Events handed to the broker, by topic and outcome (ok, failed).",
                               ("topic", "outcome")),
    "spine_publish_duration_seconds": ("histogram", "Time until the broker confirmed (or refused) a publish, "
                                       "by topic.", ("topic",)),
    "spine_messages_consumed": ("counter", "Consumed messages by topic and outcome (ok, retried, dead_lettered, "
                                "undecodable, nacked, skipped); retried counts failed attempts that were retried, "
                                "skipped redeliveries acknowledged without running the handler (inbox).",
                                ("topic", "outcome")),
    "spine_message_duration_seconds": ("histogram", "Time from delivery to settlement of a message (decoding, "
                                       "handler attempts, backoff between them), by topic.", ("topic",)),
    "spine_messages_in_flight": ("gauge", "Messages being handled now, by topic.", ("topic",)),
}


def registry(scraped: Callable[[], Series], buckets: tuple[float, ...], lag: Lag | None,
             group_id: str) -> CollectorRegistry:
    """A registry of the series ``scraped`` returns (histograms over ``buckets``), the process's
    defaults and, with ``lag``, the consumer lag."""
    made = CollectorRegistry(auto_describe=True)
    for default in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
        made.register(default)
    made.register(SpineCollector(scraped, buckets))
    if lag is not None:
        made.register(LagCollector(lag, group_id))
    return made


class SpineCollector(Collector):
    """Turns the summed numbers into Prometheus metric families at scrape time."""

    def __init__(self, scraped: Callable[[], Series], buckets: tuple[float, ...]) -> None:
        self._scraped = scraped
        self._buckets = buckets

    def collect(self) -> Iterator[Metric]:
        totals = self._scraped()
        for name, (kind, doc, labels) in _FAMILIES.items():
            series = sorted((k[1:], v) for k, v in totals.items() if k[0] == name)
            if kind == "histogram":
                histogram = HistogramMetricFamily(name, doc, labels=labels)
                for values, buckets in series:
                    assert isinstance(buckets, list)  # nosec B101 # narrows a type for mypy
                    histogram.add_metric(list(values), _cumulative(self._buckets, buckets), buckets[-1])
                yield histogram
            else:
                family = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
                metric = family(name, doc, labels=labels)
                for values, value in series:
                    metric.add_metric(list(values), value)  # type: ignore[arg-type]
                yield metric


def _cumulative(bounds: tuple[float, ...], slots: list[float]) -> list[tuple[str, float]]:
    buckets, running = [], 0.0
    for bound, count in zip([*map(str, bounds), "+Inf"], slots[:-1]):
        running += count
        buckets.append((bound, running))
    return buckets


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
