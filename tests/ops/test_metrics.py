"""Prometheus metrics after known traffic: exact counts, histogram buckets, bounded labels, switch off."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping

import pytest
from attrs import evolve
from prometheus_client.parser import text_string_to_metric_families

from spine_core import OpsOptions, hookimpl
from spine_core.messages import OutgoingMessage
from spine_core.ops.metrics import Metrics
from spine_core.options import BrokerConfig
from spine_core.runtime import Runtime
from spine_memory import MemoryBroker, MemoryPlugin
from spine_memory.pytest_plugin import StartedApp

from . import sample

PING = "t.ping"


def value(metrics: Metrics | None, name: str, **labels: str) -> float | None:
    assert metrics is not None
    return metrics.registry.get_sample_value(name, labels)


@pytest.fixture
def traffic(spine_app: Callable[..., StartedApp]) -> StartedApp:
    """3 pings handled, 1 failing in the consumer, 1 bad path parameter, 1 unknown path,
    1 undecodable message; health and metrics endpoints polled (not counted)."""
    started = spine_app(sample.create_app(), sample.options())
    client = started.client
    assert client is not None
    for n in (1, 2, 3, -1):
        assert client.simulate_post(f"/api/pings/{n}").status_code == 200
    assert client.simulate_post("/api/pings/abc").status_code == 400
    assert client.simulate_get("/api/nowhere/42").status_code == 404
    assert client.simulate_get("/health/ready").status_code == 200
    assert client.simulate_get("/metrics").status_code == 200
    started.broker.publish([OutgoingMessage(PING, b"not json", "9", {"event-name": "ping"})], timeout=1.0)
    started.broker.drain()
    return started


def test_http_requests_by_route_template_method_and_status(traffic: StartedApp) -> None:
    m = traffic.runtime.metrics
    assert value(m, "spine_http_requests_total", route="/api/pings/:n", method="POST", status="200") == 4
    assert value(m, "spine_http_requests_total", route="/api/pings/:n", method="POST", status="400") == 1
    assert value(m, "spine_http_requests_total", route="<unmatched>", method="GET", status="404") == 1
    assert value(m, "spine_http_request_duration_seconds_count", route="/api/pings/:n", method="POST") == 5


def test_labels_are_templates_never_raw_paths_and_ops_endpoints_are_not_counted(traffic: StartedApp) -> None:
    assert traffic.client is not None
    text = traffic.client.simulate_get("/metrics").text
    routes = {
        s.labels["route"] for f in text_string_to_metric_families(text) for s in f.samples if "route" in s.labels
    }
    assert routes == {"/api/pings/:n", "<unmatched>"}


def test_published_events_and_confirm_latency(traffic: StartedApp) -> None:
    m = traffic.runtime.metrics
    assert value(m, "spine_events_published_total", topic=PING, outcome="ok") == 4
    assert value(m, "spine_events_published_total", topic=PING, outcome="failed") is None  # never failed
    assert value(m, "spine_publish_duration_seconds_count", topic=PING) == 4
    assert value(m, "spine_publish_duration_seconds_bucket", topic=PING, le="+Inf") == 4
    buckets = [value(m, "spine_publish_duration_seconds_bucket", topic=PING, le=le) for le in ("0.001", "10.0")]
    assert buckets[0] is not None and buckets[1] is not None and buckets[0] <= buckets[1] == 4


def test_consumed_messages_by_outcome_with_handler_latency(traffic: StartedApp) -> None:
    """ok 3; the failing ping is retried once then dead-lettered; the bad payload is undecodable."""
    m = traffic.runtime.metrics
    outcomes = {o: value(m, "spine_messages_consumed_total", topic=PING, outcome=o)
                for o in ("ok", "retried", "dead_lettered", "undecodable", "nacked")}
    assert outcomes == {"ok": 3, "retried": 1, "dead_lettered": 1, "undecodable": 1, "nacked": 0}
    # every settled message: 3 ok, 1 dead-lettered, 1 undecodable
    assert value(m, "spine_message_duration_seconds_count", topic=PING) == 5
    assert value(m, "spine_message_duration_seconds_bucket", topic=PING, le="0.01") is not None
    assert value(m, "spine_messages_in_flight", topic=PING) == 0


def test_publish_failure_is_counted(spine_app: Callable[..., StartedApp], memory_broker: MemoryBroker) -> None:
    started = spine_app(sample.create_app(), sample.options())
    memory_broker.available = False
    assert started.client is not None
    assert started.client.simulate_post("/api/pings/1").status_code == 503
    memory_broker.available = True
    assert value(started.runtime.metrics, "spine_events_published_total", topic=PING, outcome="failed") == 1


def test_exposition_is_prometheus_text(traffic: StartedApp) -> None:
    assert traffic.client is not None
    response = traffic.client.simulate_get("/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=")
    names = {f.name for f in text_string_to_metric_families(response.text)}
    assert {"spine_http_requests", "spine_events_published", "spine_messages_consumed", "process_cpu_seconds"} <= names


def test_each_runtime_counts_apart(spine_app: Callable[..., StartedApp]) -> None:
    one = spine_app(sample.create_app(), sample.options())
    two = spine_app(sample.create_app(), sample.options())
    assert one.client is not None
    one.client.simulate_post("/api/pings/1")
    one.broker.drain()
    assert value(one.runtime.metrics, "spine_events_published_total", topic=PING, outcome="ok") == 1
    assert value(two.runtime.metrics, "spine_events_published_total", topic=PING, outcome="ok") is None
    handled = [value(r.runtime.metrics, "spine_messages_consumed_total", topic=PING, outcome="ok") for r in (one, two)]
    assert sorted(h for h in handled if h is not None) == [0, 1]  # one group member of the two got the message


def test_metrics_switched_off(spine_app: Callable[..., StartedApp]) -> None:
    """``OpsOptions(metrics=False)`` (``SPINE_METRICS=0``): no registry, no endpoint; the app still works."""
    assert sample.options().with_env({"SPINE_METRICS": "0"}).ops.metrics is False
    started = spine_app(sample.create_app(), evolve(sample.options(), ops=OpsOptions(metrics=False)))
    assert started.runtime.metrics is None
    assert started.client is not None
    assert started.client.simulate_post("/api/pings/1").status_code == 200
    assert started.client.simulate_get("/metrics").status_code == 404
    assert started.client.simulate_get("/health/ready").status_code == 200
    started.broker.drain()


class LaggingPlugin(MemoryPlugin):
    """A memory plugin that reports a fixed consumer lag, as the Kafka plugin does from its client."""

    @hookimpl
    def spine_consumer_lag(self) -> Mapping[tuple[str, int], int]:
        return {(PING, 0): 5, (PING, 1): 0}


def test_consumer_lag_is_asked_from_the_plugin_at_scrape_time(memory_broker: MemoryBroker) -> None:
    options = sample.options()
    runtime = Runtime(sample.create_app(), options, LaggingPlugin(BrokerConfig.from_options(options), memory_broker))
    m = runtime.metrics
    assert value(m, "spine_consumer_lag", group="pingers", topic=PING, partition="0") == 5
    assert value(m, "spine_consumer_lag", group="pingers", topic=PING, partition="1") == 0


class BlindPlugin(MemoryPlugin):
    """A memory plugin whose client cannot tell the lag."""

    @hookimpl
    def spine_consumer_lag(self) -> None:
        return None


def test_no_lag_metric_when_the_plugin_cannot_tell(memory_broker: MemoryBroker) -> None:
    options = sample.options()
    runtime = Runtime(sample.create_app(), options, BlindPlugin(BrokerConfig.from_options(options), memory_broker))
    assert value(runtime.metrics, "spine_consumer_lag", group="pingers", topic=PING, partition="0") is None


def test_memory_plugin_reports_lag(spine_app: Callable[..., StartedApp]) -> None:
    """The memory plugin reports its group's unsettled messages per owned partition: 0 once drained."""
    started = spine_app(sample.create_app(), sample.options())
    assert started.client is not None
    assert started.client.simulate_post("/api/pings/1").status_code == 200
    started.broker.drain()
    assert 'spine_consumer_lag{group="pingers"' in started.client.simulate_get("/metrics").text


def test_a_batch_is_counted_in_one_call_by_outcome() -> None:
    """``ConsumerMetrics.observe`` of a batch: each settlement under its outcome, every message in the
    duration histogram (its bucket and its share of the sum), the in-flight gauge back to zero."""
    from spine_core.messages import ACK, NACK, SKIPPED, DeadLetter, Headers

    metrics = Metrics()
    consumer = metrics.consumer("t.batch")
    consumer.in_flight(5)
    consumer.in_flight(-5)
    consumer.observe([ACK, ACK, SKIPPED, NACK, DeadLetter("t.batch.dlq", {Headers.ATTEMPTS: "0"}),
                      DeadLetter("t.batch.dlq", {Headers.ATTEMPTS: "3"})], 0.003)
    series = consumer.series()
    counts = {o: series[("spine_messages_consumed", "t.batch", o)] for o in
              ("ok", "skipped", "nacked", "undecodable", "dead_lettered", "retried")}
    assert counts == {"ok": 2, "skipped": 1, "nacked": 1, "undecodable": 1, "dead_lettered": 1, "retried": 0}
    assert value(metrics, "spine_message_duration_seconds_bucket", topic="t.batch", le="0.0025") == 0
    assert value(metrics, "spine_message_duration_seconds_bucket", topic="t.batch", le="0.005") == 6
    assert value(metrics, "spine_message_duration_seconds_sum", topic="t.batch") == pytest.approx(0.018)
    assert series[("spine_messages_in_flight", "t.batch")] == 0


def test_prometheus_client_is_imported_at_the_first_scrape() -> None:
    """Counting needs no prometheus_client: a service nobody scrapes never imports it; the first
    ``GET /metrics`` does, and shows what was counted before."""
    code = """
import sys
from falcon.testing import TestClient
from spine_core import Options, Spine

def ping() -> str:
    return "pong"

app = Spine()
app.route("GET", "/ping", ping)
client = TestClient(app.wsgi(Options()))
client.simulate_get("/ping")
before = "prometheus_client" in sys.modules
scrape = client.simulate_get("/metrics")
counted = 'spine_http_requests_total{method="GET",route="/ping",status="200"} 1.0' in scrape.text
print(before, scrape.status_code, counted)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "SPINE_BROKER": "memory"}).stdout
    assert out.strip() == "False 200 True"
