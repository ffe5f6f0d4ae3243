"""Ops over Kafka (Tansu): traceparent from a request into the consumer's context, consumer lag,
readiness following the broker as it is stopped and started again."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from attrs import evolve
from falcon.testing import TestClient

from spine_core import Options, Spine
from spine_core.options import BrokerConfig
from spine_core.runtime import Runtime

from . import sample

pytestmark = pytest.mark.kafka

TRACE_ID = "5c8ad7f3c1e54a3a9c1d2f0e4b6a7c8d"
DEADLINE = 30.0
OnKafka = Callable[[Spine, Options, str], Runtime]


def wait_until(predicate: Callable[[], bool], what: str, timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
def on_kafka() -> Iterator[OnKafka]:
    """Start apps on the kafka plugin with ``bootstrap``; closed after the test."""
    from spine_kafka import KafkaPlugin
    from spine_kafka.tansu import TANSU_CONSUMER_SETTINGS

    started: list[Runtime] = []

    def start(app: Spine, options: Options, bootstrap: str) -> Runtime:
        settings = {"bootstrap.servers": bootstrap, **TANSU_CONSUMER_SETTINGS}
        options = evolve(options, broker=evolve(options.broker, name="kafka", settings={"kafka": settings}))
        runtime = Runtime(app, options, KafkaPlugin(BrokerConfig.from_options(options)))
        runtime.start()
        started.append(runtime)
        return runtime

    yield start
    for runtime in reversed(started):
        runtime.close(timeout=10.0)


def unique_options() -> Options:
    options = sample.options()
    assert options.broker.read is not None
    read = evolve(options.broker.read, group_id=f"pingers-{uuid.uuid4().hex[:8]}")
    return evolve(options, broker=evolve(options.broker, topic_prefix=f"ops-{uuid.uuid4().hex[:8]}.", read=read))


def test_traceparent_reaches_the_consumer_over_kafka(on_kafka: OnKafka, kafka_bootstrap_servers: str) -> None:
    """Trace id and correlation id of ``POST`` reach the handler's context through Kafka headers;
    the consumer's lag per partition is exposed once it consumed."""
    app = sample.create_app()
    options = unique_options()
    runtime = on_kafka(app, options, kafka_bootstrap_servers)
    assert runtime.wsgi is not None
    client = TestClient(runtime.wsgi)
    wait_until(lambda: client.simulate_get("/health/ready").status_code == 200, "the consumer to join")
    response = client.simulate_post("/api/pings/5", headers={"traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"})
    assert response.status_code == 200
    consumer = app.container.get(sample.PingConsumer)
    wait_until(lambda: len(consumer.handled) == 1, "the ping to be handled")
    ctx = consumer.handled[0]
    assert ctx.trace is not None and ctx.trace.trace_id == TRACE_ID
    assert ctx.correlation_id == response.headers["X-Correlation-ID"]
    assert ctx.message is not None and ctx.message.headers["traceparent"].split("-")[1] == TRACE_ID
    topic = options.broker.topic_prefix + "ping"

    def lag_series() -> dict[str, float]:
        assert runtime.metrics is not None
        return {s.labels["partition"]: s.value for f in runtime.metrics.registry.collect()
                for s in f.samples if s.name == "spine_consumer_lag" and s.labels["topic"] == topic}

    wait_until(lambda: bool(lag_series()) and sum(lag_series().values()) == 0, "the lag to be reported as 0")


def test_readiness_follows_kafka_going_away_and_coming_back(on_kafka: OnKafka, kafka_bootstrap_servers: str) -> None:
    """A publishing app on its own Tansu: ready, 503 once Tansu stops, ready again once it is back."""
    from spine_kafka.tansu import Tansu, TansuUnavailable

    try:
        tansu = Tansu.start()
    except TansuUnavailable as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"no Tansu on CI: {e}")
        pytest.skip(f"needs its own Tansu: {e}")
    try:
        options = evolve(unique_options(), broker=evolve(unique_options().broker, read=None))
        runtime = on_kafka(Spine(), options, tansu.bootstrap_servers)
        assert runtime.wsgi is not None
        client = TestClient(runtime.wsgi)
        assert client.simulate_get("/health/ready").status_code == 200
        tansu.stop()
        wait_until(lambda: client.simulate_get("/health/ready").status_code == 503, "503 with Tansu stopped")
        body = client.simulate_get("/health/ready").json
        assert body["status"] == "not ready" and "kafka unreachable" in body["detail"]
        tansu = Tansu.start(port=tansu.port)
        wait_until(lambda: client.simulate_get("/health/ready").status_code == 200, "200 with Tansu back")
    finally:
        tansu.stop()
