"""Context: what handlers and interceptors share."""

from __future__ import annotations

from falcon.testing import create_req

from spine_core import Context
from spine_core.ids import TraceParent
from spine_core.messages import IncomingMessage
from spine_core.ops.tracing import CONSUMER, IdTracer


def test_request_headers_are_case_insensitive() -> None:
    """An interceptor finds "Authorization" whatever case the client sent it in."""
    ctx = Context.for_request("/x", create_req(headers={"authorization": "Bearer t"}))
    assert "Authorization" in ctx.headers
    assert ctx.headers["AUTHORIZATION"] == "Bearer t"


def test_message_headers_are_case_insensitive() -> None:
    """A consumer's context exposes the message headers under any case."""
    ctx = Context.for_message(IncomingMessage("t", b"{}", headers={"correlation-id": "c1"}))
    assert ctx.headers["Correlation-ID"] == "c1"
    assert ctx.correlation_id == "c1"


def test_message_trace_is_made_once_when_first_read() -> None:
    """A consumer's span ids are made on first use (most handlers never read them), once,
    as a child of the message's traceparent."""
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    message = IncomingMessage("t", b"{}", headers={"correlation-id": "c1", "traceparent": parent})
    span = IdTracer().start_under("t process", CONSUMER, parent, {})
    calls: list[int] = []

    def make() -> TraceParent:
        calls.append(1)
        return span.trace

    ctx = Context.for_message(message, make)
    assert calls == [] and ctx.correlation_id == "c1"
    first = ctx.trace
    assert ctx.trace is first and calls == [1]
    span.end(None)
    assert first is not None
    assert first.trace_id == "0af7651916cd43dd8448eb211c80319c" and first.span_id != "b7ad6b7169203331"


def test_message_without_correlation_id_takes_its_trace_id() -> None:
    """Without a correlation-id header, a message's correlation id is its trace id."""
    ctx = Context.for_message(IncomingMessage("t", b"{}"), TraceParent.root)
    assert ctx.trace is not None and ctx.correlation_id == ctx.trace.trace_id
