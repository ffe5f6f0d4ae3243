"""The consumer middleware chain: user middlewares run once per message around the retries,
interceptors once per attempt; a middleware may settle a message itself or fail it."""

from __future__ import annotations

from typing import Any

from spine_core import Context, Interceptor, Spine
from spine_core.messages import ACK, Deliver, Headers, IncomingMessage, Settlement

from .support import OrderCreated, options, send

CALLS: list[str] = []


class Flaky:
    def on_created(self, event: OrderCreated) -> None:
        CALLS.append("handler")
        if CALLS.count("handler") < 3:
            raise RuntimeError("not yet")


class Counting(Interceptor):
    def pre_handle(self, ctx: Context) -> None:
        CALLS.append("interceptor")


def tracing(name: str) -> Any:
    def middleware(deliver: Deliver) -> Deliver:
        def wrapped(message: IncomingMessage) -> Settlement:
            CALLS.append(f"{name} in")
            settlement = deliver(message)
            CALLS.append(f"{name} out {type(settlement).__name__}")
            return settlement
        return wrapped
    return middleware


def app_with(*middlewares: Any, per_topic: Any = ()) -> Spine:
    app = Spine()
    app.constructor(Flaky)
    app.consumers().interceptor(Counting)
    app.consumers().middleware(*middlewares)
    app.consumers().register("order.created", Flaky.on_created, middleware=per_topic)
    return app


def test_middleware_runs_once_around_the_retries_interceptors_once_per_attempt(spine_app: Any) -> None:
    """Two failures then a success: the middlewares (app's outermost, then the topic's) see the
    message once and its final Ack; the interceptor runs on each of the three attempts."""
    CALLS.clear()
    started = spine_app(app_with(tracing("outer"), per_topic=[tracing("inner")]), options(group="g", http=False))
    send(started.broker, OrderCreated(1))
    started.broker.drain()
    assert CALLS == ["outer in", "inner in", "interceptor", "handler", "interceptor", "handler",
                     "interceptor", "handler", "inner out Ack", "outer out Ack"]


def test_middleware_can_settle_without_the_handler(spine_app: Any) -> None:
    """A middleware that answers ACK itself (e.g. a duplicate it has seen) skips the handler."""
    CALLS.clear()

    def skip_all(deliver: Deliver) -> Deliver:
        return lambda message: ACK

    started = spine_app(app_with(skip_all), options(group="g", http=False))
    send(started.broker, OrderCreated(2))
    started.broker.drain()
    assert CALLS == []
    assert started.broker.messages("order.created.dlq") == []


def test_a_failing_middleware_dead_letters_the_message_with_its_reason(spine_app: Any) -> None:
    """What a middleware raises is not retried: the message goes to the dead-letter topic,
    keeping key, value and headers, with the error as the reason."""
    CALLS.clear()

    def refuse(deliver: Deliver) -> Deliver:
        def check(message: IncomingMessage) -> Settlement:
            raise PermissionError("tenant not allowed")
        return check

    started = spine_app(app_with(refuse), options(group="g", http=False))
    send(started.broker, OrderCreated(3))
    started.broker.drain()
    assert CALLS == []
    [original] = started.broker.messages("order.created")
    [dead] = started.broker.messages("order.created.dlq")
    assert (dead.key, dead.value) == (original.key, original.value)
    assert dead.headers[Headers.EVENT_ID] == original.headers[Headers.EVENT_ID]
    assert dead.headers[Headers.ERROR_TYPE] == "PermissionError"
    assert dead.headers[Headers.ERROR_MESSAGE] == "tenant not allowed"
    assert dead.headers[Headers.ATTEMPTS] == "0"
