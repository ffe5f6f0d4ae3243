"""Ops over RabbitMQ: traceparent from a request into the consumer's context, readiness."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import pytest
from attrs import evolve
from falcon.testing import TestClient

from spine_core.runtime import Runtime

from . import sample

pytestmark = pytest.mark.rabbitmq

TRACE_ID = "7d3e1f2a9b8c4d5e6f708192a3b4c5d6"


@pytest.fixture
def rabbit_runtime() -> Iterator[tuple[Runtime, sample.PingConsumer]]:
    """The sample app on RabbitMQ (``SPINE_TEST_RABBITMQ_URL`` or the local server) with names of
    its own, deleted afterwards; skipped without a server (failed on CI)."""
    pika = pytest.importorskip("pika")
    from spine_rabbitmq.config import DEFAULT_URL, queue_name

    url = os.environ.get("SPINE_TEST_RABBITMQ_URL", DEFAULT_URL)
    try:
        pika.BlockingConnection(pika.URLParameters(url)).close()
    except pika.exceptions.AMQPError as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"RabbitMQ not reachable at {url}: {e!r}")
        pytest.skip(f"RabbitMQ not reachable at {url}: {e!r}")
    run = uuid.uuid4().hex[:8]
    options = sample.options()
    assert options.broker.read is not None
    broker = evolve(
        options.broker, name="rabbitmq", topic_prefix=f"ops{run}.",
        read=evolve(options.broker.read, group_id=f"ops{run}"),
        settings={"rabbitmq": {"url": url, "exchange": f"spine-ops-{run}"}},
    )
    app = sample.create_app()
    runtime = Runtime(app, evolve(options, broker=broker))
    runtime.start()
    try:
        yield runtime, app.container.get(sample.PingConsumer)
    finally:
        runtime.close(timeout=5.0)
        channel = pika.BlockingConnection(pika.URLParameters(url)).channel()
        try:
            for queue in (queue_name(f"ops{run}", f"ops{run}.ping"), f"ops{run}.ping.dlq"):
                channel.queue_delete(queue)
            channel.exchange_delete(f"spine-ops-{run}")
        finally:
            channel.connection.close()


def test_traceparent_reaches_the_consumer_over_rabbitmq(rabbit_runtime: tuple[Runtime, sample.PingConsumer]) -> None:
    runtime, consumer = rabbit_runtime
    assert runtime.wsgi is not None
    client = TestClient(runtime.wsgi)
    assert client.simulate_get("/health/ready").status_code == 200
    response = client.simulate_post("/api/pings/4", headers={"traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"})
    assert response.status_code == 200
    deadline = time.monotonic() + 30
    while not consumer.handled:
        assert time.monotonic() < deadline, "the ping was not handled within 30 s"
        time.sleep(0.02)
    [ctx] = consumer.handled
    assert ctx.trace is not None and ctx.trace.trace_id == TRACE_ID
    assert ctx.correlation_id == response.headers["X-Correlation-ID"]
    metrics = runtime.metrics
    assert metrics is not None and ctx.message is not None
    labels = {"topic": ctx.message.topic, "outcome": "ok"}
    while metrics.registry.get_sample_value("spine_messages_consumed_total", labels) != 1:  # counted once settled
        assert time.monotonic() < deadline, "the ping was not counted within 30 s"
        time.sleep(0.02)
