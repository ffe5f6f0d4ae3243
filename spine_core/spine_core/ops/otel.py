"""Spans through OpenTelemetry (``spine-core[otel]``); imported only when ``opentelemetry`` is installed.

Spans go to the tracer provider the application set (``trace.set_tracer_provider``,
or ``opentelemetry-instrument``) before the app starts. With none,
OpenTelemetry is left alone and only the W3C ids are made (:class:`~.tracing.IdTracer`).
"""

from __future__ import annotations

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import (
    NonRecordingSpan, ProxyTracerProvider, SpanContext, SpanKind, Status, StatusCode, TraceFlags,
)

from ..ids import TraceParent
from .tracing import CONSUMER, PRODUCER, SERVER, Span

_KINDS = {SERVER: SpanKind.SERVER, PRODUCER: SpanKind.PRODUCER, CONSUMER: SpanKind.CONSUMER}


class OtelSpan:
    """An OpenTelemetry span, current in OpenTelemetry's context from its start to its end."""

    __slots__ = ("trace", "_span", "_token")

    def __init__(self, span: trace.Span, trace_parent: TraceParent) -> None:
        self.trace = trace_parent
        self._span = span
        self._token = otel_context.attach(trace.set_span_in_context(span))

    def end(self, error: BaseException | None) -> None:
        otel_context.detach(self._token)
        if error is not None:
            self._span.record_exception(error)
            self._span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
        self._span.end()


class OtelTracer:
    """Starts OpenTelemetry spans under W3C parents; ids come from the span when it has its own."""

    def __init__(self, provider: trace.TracerProvider | None = None) -> None:
        """Spans of ``provider``, by default the global one (``trace.set_tracer_provider``)."""
        self._tracer = trace.get_tracer("spine_core", tracer_provider=provider)

    def start(self, name: str, kind: str, parent: TraceParent | None, attributes: dict[str, str]) -> Span:
        context = None
        if parent is not None:
            remote = SpanContext(
                trace_id=int(parent.trace_id, 16), span_id=int(parent.span_id, 16),
                is_remote=True, trace_flags=TraceFlags(int(parent.flags, 16)),
            )
            context = trace.set_span_in_context(NonRecordingSpan(remote))
        span = self._tracer.start_span(name, context=context, kind=_KINDS[kind], attributes=attributes)
        own = span.get_span_context()
        if own.is_valid and (parent is None or own.span_id != int(parent.span_id, 16)):
            ids = TraceParent(f"{own.trace_id:032x}", f"{own.span_id:016x}", f"{int(own.trace_flags):02x}")
        else:  # the no-op provider: the span has no ids of its own
            ids = parent.child() if parent is not None else TraceParent.root()
        return OtelSpan(span, ids)

    def start_under(self, name: str, kind: str, parent_header: str | None, attributes: dict[str, str]) -> Span:
        return self.start(name, kind, TraceParent.parse(parent_header), attributes)


def configured_tracer() -> OtelTracer | None:
    """A tracer of the global provider, or None while no provider was set (no-op spans only)."""
    if isinstance(trace.get_tracer_provider(), ProxyTracerProvider):
        return None
    return OtelTracer()
