"""Publishing: events queued by a handler go out after it succeeded, before the response."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

import pytest
from falcon.testing import create_environ

from spine_core import BadRequest, Context, Interceptor, Spine, path, publish
from spine_core.messages import Headers
from spine_memory.pytest_plugin import SpineAppFactory

from .support import AT, OrderCreated, OrderShipped, options, payload

COMPLETED: list[BaseException | None] = []


class Completion(Interceptor):
    def after_completion(self, ctx: Context, error: BaseException | None) -> None:
        COMPLETED.append(error)


class Orders:
    def create(self, ctx: Context, order_id: path.Int) -> str:
        publish.event(ctx, OrderCreated(order_id.value))
        return "OK"

    def create_and_ship(self, ctx: Context, order_id: path.Int) -> str:
        publish.event(ctx, OrderCreated(order_id.value), OrderShipped(order_id.value))
        publish.event(ctx, OrderCreated(order_id.value + 1))
        return "OK"

    def create_then_fail(self, ctx: Context, order_id: path.Int) -> str:
        publish.event(ctx, OrderCreated(order_id.value))
        raise RuntimeError("database down")

    def create_then_reject(self, ctx: Context, order_id: path.Int) -> str:
        publish.event(ctx, OrderCreated(order_id.value))
        raise BadRequest("no stock")

    def not_an_event(self, ctx: Context) -> str:
        publish.event(ctx, {"order_id": 1})  # type: ignore[arg-type]
        return "OK"


def app_for(handler: Any, template: str = "/orders/:order_id") -> Spine:
    app = Spine()
    app.constructor(Orders)
    app.interceptor(Completion())
    app.route("POST", template, handler)
    return app


@pytest.fixture(autouse=True)
def clear() -> None:
    COMPLETED.clear()


def test_event_is_published_with_its_wire_form(spine_app: SpineAppFactory) -> None:
    """After success the event is on its prefixed topic: JSON payload, key and standard headers."""
    started = spine_app(app_for(Orders.create), options(prefix="shop."))
    result = started.client.simulate_post("/orders/12345", headers={"X-Correlation-ID": "req-1"})
    assert (result.status_code, result.text) == (200, "OK")
    [message] = started.broker.messages("shop.order.created")
    assert payload(message.value) == {"order_id": 12345, "at": "2024-05-01T12:30:00Z"}
    assert message.key == "12345"
    assert message.headers[Headers.EVENT_NAME] == "order.created"
    assert message.headers[Headers.CORRELATION_ID] == "req-1"
    assert message.headers[Headers.OCCURRED_AT] == AT.isoformat()
    assert message.headers[Headers.CONTENT_TYPE] == "application/json"
    assert message.headers[Headers.EVENT_ID]


def test_every_event_gets_its_own_id(spine_app: SpineAppFactory) -> None:
    """Two events published by two requests carry different event ids."""
    started = spine_app(app_for(Orders.create), options())
    started.client.simulate_post("/orders/1")
    started.client.simulate_post("/orders/1")
    ids = {m.headers[Headers.EVENT_ID] for m in started.broker.messages("order.created")}
    assert len(ids) == 2


def test_events_of_one_request_are_published_in_order(spine_app: SpineAppFactory) -> None:
    """Several events of one request reach their topics, same-key events in the order queued."""
    started = spine_app(app_for(Orders.create_and_ship), options())
    assert started.client.simulate_post("/orders/10").text == "OK"
    created = started.broker.messages("order.created")
    assert sorted(payload(m.value)["order_id"] for m in created) == [10, 11]  # type: ignore[index]
    [shipped] = started.broker.messages("order.shipped")
    assert shipped.key is None
    assert payload(shipped.value) == {"order_id": 10, "at": "2024-05-01T12:30:00Z"}


def test_events_are_confirmed_before_the_response_starts(spine_app: SpineAppFactory) -> None:
    """The broker holds the event by the time the response status is sent."""
    started = spine_app(app_for(Orders.create), options())
    stored_when_responding: list[int] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        stored_when_responding.append(len(started.broker.messages("order.created")))
        return lambda data: None  # WSGI's write(), which Falcon does not use

    assert started.runtime.wsgi is not None
    body = b"".join(started.runtime.wsgi(create_environ("/orders/7", method="POST"), start_response))
    assert body == b"OK"
    assert stored_when_responding == [1]


@pytest.mark.parametrize("handler, status", [(Orders.create_then_fail, 500), (Orders.create_then_reject, 400)])
def test_nothing_is_published_when_the_handler_fails(spine_app: SpineAppFactory, handler: Any, status: int) -> None:
    """Events queued by a handler that then raises are dropped."""
    started = spine_app(app_for(handler), options())
    assert started.client.simulate_post("/orders/1").status_code == status
    assert started.broker.messages("order.created") == []


def test_nothing_is_published_when_an_interceptor_fails_after_the_handler(spine_app: SpineAppFactory) -> None:
    """A post-handle that raises prevents the handler's events from being published."""

    class Veto(Interceptor):
        def post_handle(self, ctx: Context, result: Any) -> None:
            raise BadRequest("vetoed")

    app = app_for(Orders.create)
    app.interceptor(Veto())
    started = spine_app(app, options())
    assert started.client.simulate_post("/orders/1").status_code == 400
    assert started.broker.messages("order.created") == []


def test_unconfirmed_publish_is_a_503_never_ok(spine_app: SpineAppFactory) -> None:
    """When the broker cannot confirm within the publish timeout the client gets a 503 JSON error."""
    started = spine_app(app_for(Orders.create), options(publish_timeout=0.05))
    started.broker.available = False
    result = started.client.simulate_post("/orders/1")
    assert result.status_code == 503
    assert result.json["message"].startswith("event not published")
    assert "OK" not in result.text
    assert started.broker.messages("order.created") == []
    assert type(COMPLETED[-1]).__name__ == "PublishError"


def test_publishing_recovers_with_the_broker(spine_app: SpineAppFactory) -> None:
    """Once the broker is back, the next request publishes and answers OK."""
    started = spine_app(app_for(Orders.create), options(publish_timeout=0.05))
    started.broker.available = False
    assert started.client.simulate_post("/orders/1").status_code == 503
    started.broker.available = True
    assert started.client.simulate_post("/orders/2").text == "OK"
    created = started.broker.messages("order.created")
    assert [payload(m.value)["order_id"] for m in created] == [2]  # type: ignore[index]


def test_app_without_write_options_answers_503(spine_app: SpineAppFactory) -> None:
    """Publishing from an app configured not to publish is a 503 saying so, not a silent drop."""
    started = spine_app(app_for(Orders.create), options(write=False))
    result = started.client.simulate_post("/orders/1")
    assert result.status_code == 503
    assert "no write options" in result.json["message"]


def test_publishing_a_non_event_is_refused(spine_app: SpineAppFactory, caplog: pytest.LogCaptureFixture) -> None:
    """``publish.event`` refuses an object without ``name()`` and ``occurred_at()``."""
    with pytest.raises(TypeError) as refused:
        publish.event(Context("r", "c"), {"order_id": 1})  # type: ignore[arg-type]
    assert str(refused.value).startswith(
        "publish.event got a dict, which is not an event (it lacks name() and occurred_at()):"
        " an event is an object with name() -> str, its topic, and occurred_at() -> datetime"
    )
    started = spine_app(app_for(Orders.not_an_event, "/bad"), options())
    assert started.client.simulate_post("/bad").status_code == 500
    assert "publish.event got a dict, which is not an event" in caplog.text


def test_a_request_leaves_no_garbage_for_the_collector(spine_app: SpineAppFactory) -> None:
    """A request that publishes is freed by reference counting: it makes no reference cycle, which
    only the garbage collector would free (a collection every few dozen requests under load)."""
    started = spine_app(app_for(Orders.create), options())
    started.client.simulate_post("/orders/1")
    gc.collect()
    gc.disable()
    try:
        for order_id in range(10):
            assert started.client.simulate_post(f"/orders/{order_id}").text == "OK"
        assert gc.collect(0) == 0
    finally:
        gc.enable()
