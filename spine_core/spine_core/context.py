"""The per-request and per-message context, and the events queued on it."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from attrs import define, field

from .ids import TraceParent, id128
from .messages import Headers, IncomingMessage
from .params import RequestHeaders

if TYPE_CHECKING:
    import falcon

    from .event import Event

CORRELATION_HEADER = "X-Correlation-ID"
_CORRELATION_ENV = "HTTP_" + CORRELATION_HEADER.upper().replace("-", "_")
"""Its WSGI environ key: read there directly, Falcon's ``get_header`` costs a few calls more."""
_CORRELATION_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


current: ContextVar[Context | None] = ContextVar("spine_context", default=None)
"""The context of the request or message handled on this thread (its log records carry its ids);
None outside of one."""


def new_correlation_id() -> str:
    return id128()


def accepted_correlation_id(sent: str | None) -> str | None:
    """``sent`` if it is a correlation id Spine carries on: 1 to 128 characters of letters,
    digits and ``. _ : -``; else None (and a new one is made)."""
    return sent if sent and _CORRELATION_ID.fullmatch(sent) else None


@define(slots=True)
class Context:
    """What a handler and its interceptors share while one request or message is handled:
    a :class:`RequestContext` for an HTTP call, a :class:`MessageContext` for a consumed message.

    ``params`` holds the raw path parameters, ``event`` the decoded payload of a
    consumed message. ``events`` is the queue :func:`spine_core.publish.event` appends to; it is
    published after the handler succeeded. ``values`` is free for interceptors.
    ``trace`` is this request's or message's span in its W3C trace; without an
    ``X-Correlation-ID`` (or ``correlation-id`` header) the correlation id is its trace id.
    """

    route: str
    correlation_id: str
    params: dict[str, str] = field(factory=dict)
    event: Any = None
    events: list[Event] = field(factory=list)
    values: dict[str, Any] = field(factory=dict)
    _trace: TraceParent | Callable[[], TraceParent] | None = field(default=None, alias="trace")

    @property
    def request(self) -> falcon.Request | None:
        """The Falcon request of an HTTP call; None for a message."""
        return None

    @property
    def message(self) -> IncomingMessage | None:
        """The consumed message; None for an HTTP call."""
        return None

    @property
    def trace(self) -> TraceParent | None:
        """This request's or message's span in its W3C trace (a callable given for it is
        called when it is first read)."""
        trace = self._trace
        if callable(trace):
            trace = self._trace = trace()
        return trace

    @staticmethod
    def for_request(
        route: str, request: falcon.Request, trace: TraceParent | None = None, params: dict[str, str] | None = None
    ) -> RequestContext:
        """The context of ``request`` (``params``: its path parameters), current for log records from here on."""
        correlation_id = accepted_correlation_id(request.env.get(_CORRELATION_ENV)) or (
            trace.trace_id if trace else new_correlation_id()
        )
        ctx = RequestContext(route, correlation_id, {} if params is None else params, trace=trace, request=request)
        current.set(ctx)
        return ctx

    @staticmethod
    def for_message(
        message: IncomingMessage, trace: TraceParent | Callable[[], TraceParent] | None = None
    ) -> MessageContext:
        """The context of ``message``, current for log records from here on."""
        correlation_id = accepted_correlation_id(message.headers.get(Headers.CORRELATION_ID))
        ctx = MessageContext(message.topic, correlation_id or "", trace=trace, message=message)
        if not correlation_id:
            ctx.correlation_id = ctx.trace.trace_id if ctx.trace is not None else new_correlation_id()
        current.set(ctx)
        return ctx

    @property
    def headers(self) -> Mapping[str, str]:
        """The incoming request's or message's headers, looked up case-insensitively."""
        if self.request is not None:
            return RequestHeaders(self.request.headers)
        return RequestHeaders(self.message.headers) if self.message is not None else {}


@define(slots=True)
class RequestContext(Context):
    """The context of an HTTP call: ``request`` is its Falcon request."""

    request: falcon.Request = field(kw_only=True)


@define(slots=True)
class MessageContext(Context):
    """The context of a consumed message. A batch handler's has the batch in ``messages`` and
    its events, in the same order, as a list in ``event``; ``message`` is the batch's first."""

    message: IncomingMessage = field(kw_only=True)
    messages: Sequence[IncomingMessage] = field(default=(), kw_only=True)
    skipped: list[IncomingMessage] = field(factory=list, kw_only=True)
    """Messages an ``around`` hook acknowledged without running the handler (an inbox's
    redeliveries); they are settled as :data:`~spine_core.messages.SKIPPED`, not ``ok``."""
