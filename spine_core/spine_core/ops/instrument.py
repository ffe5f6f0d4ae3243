"""Probes: what the request, publish and consume paths call into, once on each side of the work
they observe (span, metrics); the tracer is chosen here, when a runtime boots."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Sequence
from functools import partial
from time import perf_counter
from types import TracebackType
from typing import TYPE_CHECKING, Generic, TypeVar

from ..context import Context, MessageContext, RequestContext
from ..ids import TraceParent
from ..messages import Deliver, IncomingMessage, OutgoingMessage, Settlement
from . import tracing
from .metrics import ConsumerMetrics, Metrics
from .tracing import Span

if TYPE_CHECKING:
    import falcon

C = TypeVar("C", bound=Context)
PROVIDER_VARIABLE = "OTEL_PYTHON_TRACER_PROVIDER"
"""OpenTelemetry's setting naming a tracer provider (an entry point) to load when none was set."""


def choose_tracer() -> None:
    """Unless a tracer was chosen already: OpenTelemetry's when a tracer provider was set, else
    ids only (nothing imported). A provider is set by code that imported ``opentelemetry.trace``
    already, or named by ``OTEL_PYTHON_TRACER_PROVIDER``: without either, OpenTelemetry is not
    imported (about 1 MB of a service's memory)."""
    if tracing.installed():
        return
    chosen = None
    if "opentelemetry.trace" in sys.modules or (
        os.environ.get(PROVIDER_VARIABLE) and importlib.util.find_spec("opentelemetry") is not None
    ):
        from .otel import configured_tracer

        chosen = configured_tracer()
    tracing.use(chosen or tracing.IdTracer())


class Observed(Generic[C]):
    """One handler call observed: its span, started already, and its context (current for log
    records); leaving it ends the span, recording an error that escaped."""

    __slots__ = ("_span", "_context")

    def __init__(self, span: Span, context: C) -> None:
        self._span = span
        self._context = context

    def __enter__(self) -> C:
        return self._context

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._span.end(error)


class RequestProbe:
    """The server span and the context of each request to one route (its name and attributes made
    once, at boot)."""

    __slots__ = ("_tracer", "_template", "_name", "_attributes")

    def __init__(self, method: str, template: str) -> None:
        self._tracer = tracing.tracer()
        self._template = template
        self._name = f"{method} {template}"
        self._attributes = {"route": template}

    def handling(self, req: falcon.Request, params: dict[str, str]) -> Observed[RequestContext]:
        """``with probe.handling(req, params) as ctx``: the request's span (under its ``traceparent``
        if it has one) and its context."""
        parent = TraceParent.parse(req.env.get("HTTP_TRACEPARENT"))
        span = self._tracer.start(self._name, tracing.SERVER, parent, self._attributes)
        return Observed(span, Context.for_request(self._template, req, span.trace, params))


class Publishing:
    """One publish observed: its span, started already; leaving it ends the span and counts the
    outcome of ``messages``."""

    __slots__ = ("_span", "_metrics", "_started", "trace", "messages")

    def __init__(self, span: Span, metrics: Metrics | None) -> None:
        self._span = span
        self._metrics = metrics
        self.trace: TraceParent = span.trace
        """The publish span's ids: the parent named by the published events' ``traceparent``."""
        self.messages: Sequence[OutgoingMessage] = ()
        """The messages published; counted at exit, as confirmed or failed."""
        self._started = perf_counter()

    def __enter__(self) -> Publishing:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self._metrics is not None:
            self._metrics.observe_publish(self.messages, error is None, perf_counter() - self._started)
        self._span.end(error)


class PublishProbe:
    """The producer span and the publish metrics of one runtime."""

    def __init__(self, metrics: Metrics | None) -> None:
        self._tracer = tracing.tracer()
        self._metrics = metrics
        self._attributes: dict[str, str] = {}

    def publishing(self, ctx: Context) -> Publishing:
        """Observe one publish of ``ctx``'s events: ``with probe.publishing(ctx) as p: ... p.messages = sent``."""
        return Publishing(self._tracer.start("publish", tracing.PRODUCER, ctx.trace, self._attributes), self._metrics)


BATCH_COUNT = "messaging.batch.message_count"
"""The attribute of a batch handler's consume span: how many messages the batch holds
(OpenTelemetry's messaging convention)."""


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

    def handling(self, message: IncomingMessage) -> Observed[MessageContext]:
        """``with probe.handling(message) as ctx``: the consume span of one handler attempt, under the
        message's ``traceparent``, and the message's context (whose trace ids are made when first read)."""
        return Observed(*self.start(message))

    def start(self, message: IncomingMessage) -> tuple[Span, MessageContext]:
        """:meth:`handling` without the context manager, for the consume path (PERF: three calls fewer
        per message): the caller ends the span, with the error that escaped if any."""
        span = self._tracer.start_under(self._name, tracing.CONSUMER, message.headers.get(tracing.HEADER),
                                        self._attributes)
        return span, Context.for_message(message, partial(getattr, span, "trace"))

    def handling_batch(self, messages: Sequence[IncomingMessage]) -> Observed[MessageContext]:
        """``with probe.handling_batch(messages) as ctx``: one consume span for a batch handler's
        attempt (under the first message's ``traceparent``, its size in ``messaging.batch.message_count``)
        and the context of the first message."""
        attributes = {**self._attributes, BATCH_COUNT: str(len(messages))}
        span = self._tracer.start_under(self._name, tracing.CONSUMER, messages[0].headers.get(tracing.HEADER),
                                        attributes)
        return Observed(span, Context.for_message(messages[0], partial(getattr, span, "trace")))

    def in_flight(self, count: int) -> None:
        """``count`` more messages of a batch being handled now (fewer, if negative)."""
        if self._metrics is not None:
            self._metrics.in_flight(count)

    def observe(self, settlements: Sequence[Settlement], seconds: float) -> None:
        """Count the messages a batch handler settled, after ``seconds`` (once per batch)."""
        if self._metrics is not None and settlements:
            self._metrics.observe(settlements, seconds)

    def retried(self) -> None:
        """Count a failed attempt that will be retried."""
        if self._metrics is not None:
            self._metrics.retried()


def no_probe() -> ConsumerProbe:
    """The probe of a consumer made without a runtime: spans and log context only."""
    return ConsumerProbe("", None)
