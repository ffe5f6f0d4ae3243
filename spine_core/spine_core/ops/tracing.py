"""Spans: W3C ids for every request, publish and consumed message, recorded by a tracer.

Every request and every consumed message gets a :class:`~spine_core.ids.TraceParent`
of its own, a child of the ``traceparent`` it came with (or the root of a new
trace). Published events carry the publish span's ``traceparent`` in their
headers, so the consumer's span continues the same trace. The process's tracer
is :class:`IdTracer` (ids only, nothing recorded) unless another was installed
with :func:`use`: :mod:`.instrument` installs OpenTelemetry's when a runtime boots
with ``opentelemetry`` importable (``spine-core[otel]``).
"""

from __future__ import annotations

from typing import Final, Protocol

from ..ids import TraceParent
from ..messages import Headers

HEADER: Final = Headers.TRACEPARENT
SERVER: Final = "server"
PRODUCER: Final = "producer"
CONSUMER: Final = "consumer"


class Span(Protocol):
    """A started span, current (in its tracer's context) until it ends."""

    @property
    def trace(self) -> TraceParent:
        """The span's ids."""

    def end(self, error: BaseException | None) -> None:
        """End the span; ``error``, if any, is what escaped the work it stands for."""


class Tracer(Protocol):
    def start(self, name: str, kind: str, parent: TraceParent | None, attributes: dict[str, str]) -> Span:
        """Start a span named ``name`` of ``kind`` (SERVER, PRODUCER, CONSUMER) under ``parent``,
        current until it ends."""

    def start_under(self, name: str, kind: str, parent_header: str | None, attributes: dict[str, str]) -> Span:
        """:meth:`start` under the parent a ``traceparent`` header value names (a new trace if it
        names none)."""


class IdSpan:
    """A span that only has ids: what is used when no tracer records spans."""

    __slots__ = ("trace",)

    def __init__(self, trace: TraceParent) -> None:
        self.trace = trace

    def end(self, error: BaseException | None) -> None:
        return None


class LazyIdSpan:
    """An :class:`IdSpan` whose ids are made when first read, under the parent that ``parent_header``
    (a ``traceparent`` value) names: most consumed messages never need them, and parsing and
    making them is a good part of a message's cost."""

    __slots__ = ("_trace", "_parent_header")

    def __init__(self, parent_header: str | None) -> None:
        self._trace: TraceParent | None = None
        self._parent_header = parent_header

    @property
    def trace(self) -> TraceParent:
        if self._trace is None:
            parent = TraceParent.parse(self._parent_header)
            self._trace = parent.child() if parent is not None else TraceParent.root()
        return self._trace

    def end(self, error: BaseException | None) -> None:
        return None


class IdTracer:
    """Makes W3C ids and records nothing."""

    def start(self, name: str, kind: str, parent: TraceParent | None, attributes: dict[str, str]) -> Span:
        return IdSpan(parent.child() if parent is not None else TraceParent.root())

    def start_under(self, name: str, kind: str, parent_header: str | None, attributes: dict[str, str]) -> Span:
        return LazyIdSpan(parent_header)  # PERF: nothing parsed or made until the ids are read


_tracer: Tracer = IdTracer()
_installed = False


def tracer() -> Tracer:
    """The process's tracer."""
    return _tracer


def use(new: Tracer | None) -> None:
    """Make ``new`` the process's tracer (None: :class:`IdTracer`, and :mod:`.instrument`
    chooses again when the next runtime boots); for tests and embedding."""
    global _tracer, _installed
    _tracer, _installed = new or IdTracer(), new is not None


def installed() -> bool:
    """Whether a tracer was chosen for this process (by :func:`use` or at a runtime's boot)."""
    return _installed
