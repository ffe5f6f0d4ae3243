"""Probes: what the request, publish and consume paths call into, once on each side of the work
they observe (span, metrics); the tracer is chosen here, when a runtime boots."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from time import perf_counter
from types import TracebackType
from typing import TYPE_CHECKING

from ..ids import TraceParent
from ..messages import Deliver, IncomingMessage, OutgoingMessage, Settlement
from . import tracing
from .metrics import ConsumerMetrics, Metrics
from .tracing import Span

if TYPE_CHECKING:
    import falcon


def choose_tracer() -> None:
    """Unless a tracer was chosen already: OpenTelemetry's when ``opentelemetry`` is importable
    and a tracer provider was set, else ids only (nothing imported)."""
    if tracing.installed():
        return
    chosen = None
    if importlib.util.find_spec("opentelemetry") is not None:
        from .otel import configured_tracer

        chosen = configured_tracer()
    tracing.use(chosen or tracing.IdTracer())


class RequestProbe:
    """The server span of each request to one route (name and attributes made once, at boot)."""

    __slots__ = ("_tracer", "_name", "_attributes")

    def __init__(self, method: str, template: str) -> None:
        self._tracer = tracing.tracer()
        self._name = f"{method} {template}"
        self._attributes = {"route": template}

    def span(self, req: falcon.Request) -> Span:
        """The request's span, under its ``traceparent`` if it has one."""
        return self._tracer.start_under(self._name, tracing.SERVER, req.env.get("HTTP_TRACEPARENT"), self._attributes)


class Publishing:
    """One publish observed: its span while entered, then its outcome counted."""

    __slots__ = ("_span", "_metrics", "_started", "messages")

    def __init__(self, span: Span, metrics: Metrics | None) -> None:
        self._span = span
        self._metrics = metrics
        self._started = 0.0
        self.messages: Sequence[OutgoingMessage] = ()
        """The messages published; counted at exit, as confirmed or failed."""

    @property
    def trace(self) -> TraceParent:
        return self._span.trace

    def __enter__(self) -> Publishing:
        self._span.__enter__()
        self._started = perf_counter()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self._metrics is not None:
            self._metrics.observe_publish(self.messages, error is None, perf_counter() - self._started)
        self._span.__exit__(kind, error, tb)


class PublishProbe:
    """The producer span and the publish metrics of one runtime."""

    def __init__(self, metrics: Metrics | None) -> None:
        self._tracer = tracing.tracer()
        self._metrics = metrics
        self._attributes: dict[str, str] = {}

    def publishing(self, parent: TraceParent | None) -> Publishing:
        """Observe one publish: ``with probe.publishing(ctx.trace) as p: ... p.messages = sent``."""
        return Publishing(self._tracer.start("publish", tracing.PRODUCER, parent, self._attributes), self._metrics)


class ConsumerProbe:
    """Instruments one subscription: in-flight gauge, outcomes, durations, consume span."""

    def __init__(self, topic: str, metrics: Metrics | None) -> None:
        self._topic = topic
        self._name = f"{topic} process"
        self._attributes = {"topic": topic}
        self._tracer = tracing.tracer()
        self._metrics: ConsumerMetrics | None = metrics.consumer(topic) if metrics is not None else None

    def wrap(self, runner: Deliver) -> Deliver:
        """``runner`` with its messages counted (unless metrics are off)."""
        return runner if self._metrics is None else self._metrics.counted(runner)

    def span(self, message: IncomingMessage) -> Span:
        """The consume span of one handler attempt, under the message's ``traceparent``."""
        return self._tracer.start_under(self._name, tracing.CONSUMER, message.headers.get(tracing.HEADER),
                                        self._attributes)

    def observe(self, settlements: Sequence[Settlement], seconds: float) -> None:
        """Count the messages a batch handler settled, after ``seconds``."""
        if self._metrics is not None:
            for settlement in settlements:
                self._metrics.observe(settlement, seconds)

    def retried(self) -> None:
        """Count a failed attempt that will be retried."""
        if self._metrics is not None:
            self._metrics.retried()


def no_probe() -> ConsumerProbe:
    """The probe of a consumer made without a runtime: spans and log context only."""
    return ConsumerProbe("", None)
