"""Context: what handlers and interceptors share."""

from __future__ import annotations

from falcon.testing import create_req

from spine_core import Context
from spine_core.messages import IncomingMessage


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
