"""W3C trace context: parse and make ``traceparent`` headers; spans through OpenTelemetry when installed.

Every request and every consumed message gets a :class:`TraceParent` of its
own, a child of the ``traceparent`` it came with (or the root of a new trace).
Published events carry the publish span's ``traceparent`` in their headers, so
the consumer's span continues the same trace. Without OpenTelemetry the ids are
made here and nothing is imported; with it (``spine-core[otel]``) and a tracer
provider set before the first request or message, spans are recorded by that
provider and their ids are used instead.
"""

from __future__ import annotations

import importlib.util
import re
from types import TracebackType
from typing import Final, Protocol

from attrs import frozen

from .ids import id64, id128
from .messages import Headers

HEADER: Final = Headers.TRACEPARENT
SERVER: Final = "server"
PRODUCER: Final = "producer"
CONSUMER: Final = "consumer"

_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?")
_NO_TRACE, _NO_SPAN = "0" * 32, "0" * 16  # all-zero ids are invalid


@frozen
class TraceParent:
    """One span's place in a trace: ``trace_id`` (32 hex), ``span_id`` (16 hex), ``flags`` (2 hex)."""

    trace_id: str
    span_id: str
    flags: str = "01"

    @classmethod
    def parse(cls, header: str | None) -> TraceParent | None:
        """The parent of a ``traceparent`` header value, or None if it is missing or invalid."""
        match = _TRACEPARENT.fullmatch(header.strip().lower()) if header else None
        if match is None:
            return None
        version, trace_id, span_id, flags, rest = match.groups()
        if version == "ff" or (version == "00" and rest) or trace_id == _NO_TRACE or span_id == _NO_SPAN:
            return None
        return cls(trace_id, span_id, flags)

    @classmethod
    def root(cls) -> TraceParent:
        """The first span of a new, sampled trace."""
        return cls(id128(), id64())

    def child(self) -> TraceParent:
        """A new span of the same trace."""
        return TraceParent(self.trace_id, id64(), self.flags)

    def header(self) -> str:
        """The ``traceparent`` header value naming this span as the parent."""
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"


class Span(Protocol):
    """A started span; use it as a context manager, which ends it and records an error."""

    @property
    def trace(self) -> TraceParent: ...

    def __enter__(self) -> Span: ...

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class Tracer(Protocol):
    def start(self, name: str, kind: str, parent: TraceParent | None, attributes: dict[str, str]) -> Span:
        """Start a span named ``name`` of ``kind`` (SERVER, PRODUCER, CONSUMER) under ``parent``."""


class IdSpan:
    """A span that only has ids: what is used when OpenTelemetry is not installed.

    Without ``trace``, its ids are made when first read, under the parent that
    ``parent_header`` (a ``traceparent`` value) names: most consumed messages never
    need them, and parsing and making them is a good part of a message's cost.
    """

    __slots__ = ("_trace", "_parent_header")

    def __init__(self, trace: TraceParent | None = None, parent_header: str | None = None) -> None:
        self._trace = trace
        self._parent_header = parent_header

    @property
    def trace(self) -> TraceParent:
        if self._trace is None:
            parent = TraceParent.parse(self._parent_header)
            self._trace = parent.child() if parent is not None else TraceParent.root()
        return self._trace

    def __enter__(self) -> IdSpan:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


class IdTracer:
    """Makes W3C ids and records nothing."""

    def start(self, name: str, kind: str, parent: TraceParent | None, attributes: dict[str, str]) -> Span:
        return IdSpan(parent.child() if parent is not None else TraceParent.root())


_tracer: Tracer | None = None


def tracer() -> Tracer:
    """The process's tracer, chosen at its first span: OpenTelemetry's when ``opentelemetry`` is
    installed and a tracer provider was set, else :class:`IdTracer`."""
    global _tracer
    if _tracer is None:
        if importlib.util.find_spec("opentelemetry") is not None:
            from .otel import configured_tracer

            _tracer = configured_tracer() or IdTracer()
        else:
            _tracer = IdTracer()
    return _tracer


def use(new: Tracer | None) -> None:
    """Replace the process's tracer (None: choose again on next use); for tests and embedding."""
    global _tracer
    _tracer = new


def span(name: str, kind: str, parent: TraceParent | None, **attributes: str) -> Span:
    """Start a span with the process's tracer."""
    return tracer().start(name, kind, parent, attributes)


def span_under(name: str, kind: str, parent_header: str | None, **attributes: str) -> Span:
    """Start a span under the parent a ``traceparent`` header value names (a new trace if
    it names none); with :class:`IdTracer`, nothing is parsed or made until its ids are read."""
    current = tracer()
    if type(current) is IdTracer:
        return IdSpan(parent_header=parent_header)
    return current.start(name, kind, TraceParent.parse(parent_header), attributes)
