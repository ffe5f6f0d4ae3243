"""Interceptors around handlers: order, abort, post-handle, and after-completion always."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from spine_core import BootError, Context, Forbidden, Interceptor, Spine
from spine_memory.pytest_plugin import SpineAppFactory

from .support import OrderCreated, options, send

CALLS: list[str] = []


class Recorder(Interceptor):
    """Appends ``<label>.<stage>`` to CALLS; may fail at a chosen stage."""

    def __init__(self, label: str, fail_at: str = "") -> None:
        self.label = label
        self.fail_at = fail_at

    def _record(self, stage: str) -> None:
        CALLS.append(f"{self.label}.{stage}")
        if stage == self.fail_at:
            raise Forbidden(f"{self.label} says no")

    def pre_handle(self, ctx: Context) -> None:
        self._record("pre")

    def post_handle(self, ctx: Context, result: Any) -> None:
        self._record(f"post:{result}")

    def after_completion(self, ctx: Context, error: BaseException | None) -> None:
        self._record(f"after:{type(error).__name__ if error else None}")


class Audit:
    """An injectable dependency of an interceptor class."""

    def __init__(self) -> None:
        self.routes: list[str] = []


class AuditInterceptor(Interceptor):
    def __init__(self, audit: Audit) -> None:
        self.audit = audit

    def pre_handle(self, ctx: Context) -> None:
        ctx.values["user"] = "alice"
        self.audit.routes.append(ctx.route)


class Handlers:
    def ok(self) -> str:
        CALLS.append("handler")
        return "done"

    def boom(self) -> str:
        CALLS.append("handler")
        raise ValueError("boom")

    def whoami(self, ctx: Context) -> str:
        return str(ctx.values["user"])

    def consume(self, ctx: Context, event: OrderCreated) -> None:
        CALLS.append(f"consume:{event.order_id}")


@pytest.fixture(autouse=True)
def clear_calls() -> None:
    CALLS.clear()


def http_app(handler: Any, *, global_: list[Any], route: tuple[Any, ...] | list[Any] = ()) -> Spine:
    app = Spine()
    app.constructor(Handlers)
    app.interceptor(*global_)
    app.route("GET", "/x", handler, interceptors=route)
    return app


def test_order_around_a_successful_handler(spine_app: SpineAppFactory) -> None:
    """Global then route pre-handles in order; post-handles and after-completions in reverse."""
    app = http_app(Handlers.ok, global_=[Recorder("g1"), Recorder("g2")], route=[Recorder("r")])
    result = spine_app(app, options()).client.simulate_get("/x")
    assert result.text == "done"
    assert CALLS == [
        "g1.pre", "g2.pre", "r.pre",
        "handler",
        "r.post:done", "g2.post:done", "g1.post:done",
        "r.after:None", "g2.after:None", "g1.after:None",
    ]


def test_pre_handle_aborts_the_call(spine_app: SpineAppFactory) -> None:
    """A pre-handle that raises stops the chain: no handler, and only entered interceptors complete."""
    app = http_app(Handlers.ok, global_=[Recorder("g1"), Recorder("g2", fail_at="pre"), Recorder("g3")])
    result = spine_app(app, options()).client.simulate_get("/x")
    assert result.status_code == 403
    assert result.json == {"message": "g2 says no"}
    assert CALLS == ["g1.pre", "g2.pre", "g1.after:Forbidden"]


def test_after_completion_sees_the_handler_error(spine_app: SpineAppFactory) -> None:
    """When the handler fails, post-handles are skipped and after-completion gets the error."""
    app = http_app(Handlers.boom, global_=[Recorder("g1"), Recorder("g2")])
    result = spine_app(app, options()).client.simulate_get("/x")
    assert result.status_code == 500
    assert CALLS == ["g1.pre", "g2.pre", "handler", "g2.after:ValueError", "g1.after:ValueError"]


def test_failing_post_handle_fails_the_request(spine_app: SpineAppFactory) -> None:
    """A post-handle that raises turns the answer into its error and completes with it."""
    app = http_app(Handlers.ok, global_=[Recorder("g1"), Recorder("g2", fail_at="post:done")])
    result = spine_app(app, options()).client.simulate_get("/x")
    assert result.status_code == 403
    assert CALLS == ["g1.pre", "g2.pre", "handler", "g2.post:done", "g2.after:Forbidden", "g1.after:Forbidden"]


def test_failing_after_completion_is_logged_not_raised(
    spine_app: SpineAppFactory, caplog: pytest.LogCaptureFixture,
) -> None:
    """An after-completion that raises is logged; the others still run and the answer stands."""
    app = http_app(Handlers.ok, global_=[Recorder("g1"), Recorder("g2", fail_at="after:None")])
    with caplog.at_level(logging.ERROR):
        result = spine_app(app, options()).client.simulate_get("/x")
    assert result.text == "done"
    assert CALLS[-2:] == ["g2.after:None", "g1.after:None"]
    assert any("after_completion" in r.getMessage() for r in caplog.records)


def test_interceptor_classes_are_built_by_the_container(spine_app: SpineAppFactory) -> None:
    """An interceptor given as a class gets its dependencies injected and can pass values to the handler."""
    app = http_app(Handlers.whoami, global_=[AuditInterceptor])
    app.constructor(Audit)
    assert spine_app(app, options()).client.simulate_get("/x").text == "alice"
    assert app.container.get(Audit).routes == ["/x"]


def test_consumer_interceptors_run_around_consumer_handlers(spine_app: SpineAppFactory) -> None:
    """Interceptors registered on the consumer registry wrap each consumer call."""
    app = Spine()
    app.constructor(Handlers)
    app.consumers().interceptor(Recorder("c"))
    app.consumers().register("order.created", Handlers.consume, interceptors=[Recorder("t")])
    started = spine_app(app, options(group="g", http=False))
    send(started.broker, OrderCreated(5))
    started.broker.drain()
    assert CALLS == ["c.pre", "t.pre", "consume:5", "t.post:None", "c.post:None", "t.after:None", "c.after:None"]


class AsyncGuard(Interceptor):
    async def pre_handle(self, ctx: Context) -> None:  # type: ignore[override]
        raise Forbidden("never raised: the coroutine is not awaited")


def test_async_interceptor_is_a_boot_error(spine_app: SpineAppFactory) -> None:
    """An interceptor with an ``async def`` stage is refused at boot rather than silently never aborting."""
    with pytest.raises(BootError, match=r"AsyncGuard.pre_handle is async"):
        spine_app(http_app(Handlers.ok, global_=[AsyncGuard()]), options())
