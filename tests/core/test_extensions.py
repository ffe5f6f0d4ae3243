"""Extension plugins (``app.extend``): parameter resolvers, stages around the handler, lifecycle, health."""

from __future__ import annotations

from spine_memory.pytest_plugin import SpineAppFactory

from collections.abc import Callable
from typing import Any

from spine_core import Context, Interceptor, Spine, hookimpl
from spine_core.messages import Health
from spine_core.runtime import Runtime

from .support import OrderCreated, options, send

CALLS: list[str] = []


class Clock:
    """A parameter type only the extension knows."""

    def __init__(self, now: str) -> None:
        self.now = now


class Recorder(Interceptor):
    def pre_handle(self, ctx: Context) -> None:
        CALLS.append("pre")

    def post_handle(self, ctx: Context, result: Any) -> None:
        CALLS.append("post")

    def after_completion(self, ctx: Context, error: BaseException | None) -> None:
        CALLS.append("after")


class Extension:
    """Resolves ``Clock``; its stage records around the call, takes the queued events, and
    skips consumer handlers for order 0."""

    def __init__(self) -> None:
        self.taken: list[object] = []

    @hookimpl
    def spine_resolver(self, name: str, annotation: Any) -> Any:
        return (lambda ctx: Clock("noon")) if annotation is Clock else None

    @hookimpl
    def spine_around(self) -> Callable[[Context, Callable[[], Any]], Any]:
        def around(ctx: Context, proceed: Callable[[], Any]) -> Any:
            if ctx.event is not None and ctx.event.order_id == 0:
                CALLS.append("skipped")
                return None
            CALLS.append("around:in")
            result = proceed()
            self.taken.extend(ctx.events)
            ctx.events.clear()
            CALLS.append("around:out")
            return result

        return around

    @hookimpl
    def spine_extension_start(self, runtime: Runtime) -> None:
        CALLS.append("start")

    @hookimpl
    def spine_extension_stop(self, timeout: float) -> None:
        CALLS.append("stop")

    @hookimpl
    def spine_extension_close(self) -> None:
        CALLS.append("close")

    @hookimpl
    def spine_extension_health(self) -> Health:
        return Health(False, "extension: not yet")


class Handlers:
    def tell(self, ctx: Context, clock: Clock) -> str:
        CALLS.append("handler")
        ctx.events.append(OrderCreated(1))
        return clock.now

    def consume(self, event: OrderCreated) -> None:
        CALLS.append(f"consume:{event.order_id}")


def test_resolver_and_around_stage_of_an_http_route(spine_app: SpineAppFactory) -> None:
    """The extension's resolver supplies ``Clock``; its stage runs inside ``pre_handle`` and
    around the handler and ``post_handle``; events it takes are not published."""
    CALLS.clear()
    extension = Extension()
    app = Spine()
    app.extend(extension)
    app.interceptor(Recorder())
    app.constructor(Handlers)
    app.route("GET", "/time", Handlers.tell)
    started = spine_app(app, options())
    assert started.client.simulate_get("/time").text == "noon"
    assert CALLS == ["start", "pre", "around:in", "handler", "post", "around:out", "after"]
    assert extension.taken == [OrderCreated(1)]
    assert started.broker.messages("order.created") == []


def test_a_stage_that_does_not_proceed_acknowledges_the_message(spine_app: SpineAppFactory) -> None:
    CALLS.clear()
    app = Spine()
    app.extend(Extension())
    app.constructor(Handlers)
    app.consumers().register("order.created", Handlers.consume)
    started = spine_app(app, options(group="g", http=False))
    send(started.broker, OrderCreated(0), OrderCreated(2))
    started.broker.drain()
    assert CALLS == ["start", "skipped", "around:in", "consume:2", "around:out"]


def test_extension_health_joins_readiness_and_lifecycle_brackets_the_broker(spine_app: SpineAppFactory) -> None:
    CALLS.clear()
    app = Spine()
    app.extend(Extension())
    started = spine_app(app, options())
    health = started.runtime.health()
    assert not health.ready
    assert health.detail.endswith("extension: not yet")
    started.runtime.close(timeout=1.0)
    assert CALLS == ["start", "stop", "close"]
