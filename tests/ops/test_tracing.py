"""W3C trace context from an HTTP request into the published event and the consumer's context;
OpenTelemetry spans when it is installed, nothing imported when it is not."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

from spine_core.ops import tracing
from spine_core.ids import TraceParent
from spine_core.ops.tracing import IdTracer
from spine_memory.pytest_plugin import StartedApp

from . import sample

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

PingApp = Callable[[], "tuple[StartedApp, sample.PingConsumer]"]

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
INCOMING = f"00-{TRACE_ID}-b7ad6b7169203331-01"


@pytest.fixture
def ping_app(spine_app: Callable[..., StartedApp]) -> PingApp:
    def start() -> tuple[StartedApp, sample.PingConsumer]:
        app = sample.create_app()
        return spine_app(app, sample.options()), app.container.get(sample.PingConsumer)

    return start


def test_parse_accepts_w3c_and_refuses_garbage() -> None:
    assert TraceParent.parse(INCOMING) == TraceParent(TRACE_ID, "b7ad6b7169203331", "01")
    assert TraceParent.parse(f"01-{TRACE_ID}-b7ad6b7169203331-01-future") is not None
    for bad in (None, "", "00-xyz", f"00-{'0' * 32}-b7ad6b7169203331-01", f"00-{TRACE_ID}-{'0' * 16}-01",
                f"ff-{TRACE_ID}-b7ad6b7169203331-01", f"00-{TRACE_ID}-b7ad6b7169203331-01-extra"):
        assert TraceParent.parse(bad) is None, bad
    root = TraceParent.root()
    assert TraceParent.parse(root.header()) == root and root.child().trace_id == root.trace_id


def test_traceparent_travels_from_request_to_consumer_context(ping_app: PingApp) -> None:
    """Same trace id in the consumer's context; each hop has a span of its own; the correlation id
    of the request is the consumer's too."""
    started, consumer = ping_app()
    response = started.client.simulate_post("/api/pings/5", headers={"traceparent": INCOMING})
    assert response.status_code == 200
    started.broker.drain()
    [ctx] = consumer.handled
    [stored] = started.broker.messages("t.ping")
    published = TraceParent.parse(stored.headers["traceparent"])
    assert published is not None and published.trace_id == TRACE_ID
    assert ctx.trace is not None and ctx.trace.trace_id == TRACE_ID
    assert len({"b7ad6b7169203331", published.span_id, ctx.trace.span_id}) == 3
    assert ctx.correlation_id == response.headers["X-Correlation-ID"] == stored.headers["correlation-id"]


def test_without_headers_a_trace_starts_and_names_the_correlation_id(ping_app: PingApp) -> None:
    started, consumer = ping_app()
    response = started.client.simulate_post("/api/pings/6")
    started.broker.drain()
    [ctx] = consumer.handled
    assert ctx.trace is not None
    assert response.headers["X-Correlation-ID"] == ctx.trace.trace_id == ctx.correlation_id


def test_a_given_correlation_id_is_kept_next_to_the_trace(ping_app: PingApp) -> None:
    started, consumer = ping_app()
    started.client.simulate_post("/api/pings/7", headers={"traceparent": INCOMING, "X-Correlation-ID": "order-7"})
    started.broker.drain()
    [ctx] = consumer.handled
    assert ctx.trace is not None
    assert (ctx.correlation_id, ctx.trace.trace_id) == ("order-7", TRACE_ID)


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    """OpenTelemetry's SDK recording into memory, as the process's tracer for this test."""
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from spine_core.ops.otel import OtelTracer

    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracing.use(OtelTracer(provider))
    yield memory
    tracing.use(None)


def test_opentelemetry_spans_are_linked_from_request_to_consume(
    ping_app: PingApp, exporter: InMemorySpanExporter
) -> None:
    """server span under the incoming parent, publish span under it, consume span under the publish span;
    the ids in the context and headers are the spans' own."""
    from opentelemetry.trace import SpanKind

    started, consumer = ping_app()
    assert started.client.simulate_post("/api/pings/8", headers={"traceparent": INCOMING}).status_code == 200
    started.broker.drain()
    [ctx] = consumer.handled
    spans = {s.kind: s for s in exporter.get_finished_spans()}
    server, producer, consumer_span = spans[SpanKind.SERVER], spans[SpanKind.PRODUCER], spans[SpanKind.CONSUMER]
    assert server.name == "POST /api/pings/:n" and consumer_span.name == "t.ping process"
    assert {f"{s.context.trace_id:032x}" for s in spans.values()} == {TRACE_ID}
    assert server.parent is not None and producer.parent is not None and consumer_span.parent is not None
    assert server.context is not None and producer.context is not None and consumer_span.context is not None
    assert ctx.trace is not None
    assert f"{server.parent.span_id:016x}" == "b7ad6b7169203331"
    assert producer.parent.span_id == server.context.span_id
    assert consumer_span.parent.span_id == producer.context.span_id
    assert ctx.trace.span_id == f"{consumer_span.context.span_id:016x}"


def test_failed_handler_span_records_the_error(ping_app: PingApp, exporter: InMemorySpanExporter) -> None:
    from opentelemetry.trace import SpanKind, StatusCode

    started, _ = ping_app()
    started.client.simulate_post("/api/pings/-1")
    started.broker.drain()
    consumes = [s for s in exporter.get_finished_spans() if s.kind == SpanKind.CONSUMER]
    assert len(consumes) == 2  # two attempts
    assert all(s.status.status_code == StatusCode.ERROR for s in consumes)


def test_without_opentelemetry_ids_still_travel(ping_app: PingApp, monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``opentelemetry`` not importable the W3C-only tracer is chosen and nothing fails."""
    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    tracing.use(None)
    try:
        assert isinstance(tracing.tracer(), IdTracer)
        started, consumer = ping_app()
        started.client.simulate_post("/api/pings/9", headers={"traceparent": INCOMING})
        started.broker.drain()
        trace = consumer.handled[0].trace
        assert trace is not None and trace.trace_id == TRACE_ID
    finally:
        tracing.use(None)


def test_importing_spine_does_not_import_opentelemetry() -> None:
    """OpenTelemetry is looked for at the first span only, and imported only if installed."""
    code = "import sys, spine_core.runtime; print(sorted(m for m in sys.modules if 'opentelemetry' in m))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_batch_handler_attempt_is_one_span_carrying_its_size(
    spine_app: Callable[..., StartedApp], exporter: InMemorySpanExporter
) -> None:
    """One consume span per batch attempt, not per message; ``messaging.batch.message_count``
    says how many messages it held, and the spans' counts add up to every message."""
    from datetime import datetime, timezone

    from opentelemetry.trace import SpanKind

    from spine_core import Spine

    sizes: list[int] = []

    def on_pings(pings: list[sample.Ping]) -> None:
        sizes.append(len(pings))

    app = Spine()
    app.consumers().register("ping", on_pings, max_batch=10)
    started = spine_app(app, sample.options())
    now = datetime.now(timezone.utc)
    started.publish(*(sample.Ping(n, now) for n in range(25)))
    started.broker.drain()
    spans = [s for s in exporter.get_finished_spans() if s.kind == SpanKind.CONSUMER]
    assert len(spans) == len(sizes) and sum(sizes) == 25 and max(sizes) > 1
    assert [int(str((s.attributes or {})["messaging.batch.message_count"])) for s in spans] == sizes
    assert {s.name for s in spans} == {"t.ping process"}


def test_a_runtime_without_a_tracer_provider_does_not_import_opentelemetry() -> None:
    """Installed but not set up (no provider set, no ``OTEL_PYTHON_TRACER_PROVIDER``): ids only,
    and OpenTelemetry stays out of the service's memory."""
    code = ("import sys; from spine_core import Options, Spine; from spine_core.ops import tracing; "
            "Spine().runtime(Options()); "
            "print(type(tracing.tracer()).__name__, [m for m in sys.modules if 'opentelemetry' in m])")
    env = {k: v for k, v in os.environ.items() if k != "OTEL_PYTHON_TRACER_PROVIDER"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**env, "SPINE_BROKER": "memory"}).stdout
    assert out.strip() == "IdTracer []"
