"""The codec seam: which codec encodes an event (app, topic, event class: the narrowest wins), and a
consumer decoding each message by its ``content-type`` (none: JSON; unknown: a dead letter naming it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, Final, TypeVar

import attrs
import pytest
from spine_memory.pytest_plugin import SpineAppFactory

from spine_core import JSON, Context, Spine, path, publish
from spine_core.codecs.choice import CodecChoice
from spine_core.codecs.engine import fast
from spine_core.messages import Headers, OutgoingMessage

from .support import OrderCreated, OrderShipped, options

T = TypeVar("T")


class Reversed:
    """A codec of its own, as an app would write one: JSON with the bytes reversed."""

    content_type: Final = "application/x-reversed-json"

    def encode(self, value: Any) -> bytes:
        return JSON.encode(value)[::-1]

    def loads(self, payload: bytes) -> Any:
        return JSON.loads(payload[::-1])

    def decoder(self, cls: type[T]) -> Callable[[bytes], T]:
        decode = JSON.decoder(cls)
        return lambda payload: decode(payload[::-1])


REVERSED = Reversed()


class Orders:
    def create(self, ctx: Context, order_id: path.Int) -> str:
        publish.event(ctx, OrderCreated(order_id.value), OrderShipped(order_id.value))
        return "OK"


def content_types(app: Spine, spine_app: SpineAppFactory) -> dict[str, str]:
    """The content type of each topic's message once ``app`` handled ``POST /orders/7``."""
    app.constructor(Orders)
    app.route("POST", "/orders/:order_id", Orders.create)
    started = spine_app(app, options())
    assert started.client.simulate_post("/orders/7").status_code == 200
    return {t: started.broker.messages(t)[0].headers[Headers.CONTENT_TYPE] for t in ("order.created", "order.shipped")}


def test_events_are_json_unless_the_app_chooses() -> None:
    """An app that chooses nothing publishes every event as ``application/json``."""
    choice = CodecChoice()
    assert choice.for_event(OrderCreated(1)) is JSON
    assert JSON.content_type == "application/json"


@pytest.mark.parametrize("chosen, expected", [
    ({}, {"order.created": "application/json", "order.shipped": "application/json"}),
    ({"app": REVERSED}, {"order.created": REVERSED.content_type, "order.shipped": REVERSED.content_type}),
    ({"app": REVERSED, "topic": ("order.shipped", JSON)},
     {"order.created": REVERSED.content_type, "order.shipped": "application/json"}),
    ({"topic": ("order.created", REVERSED), "event": (OrderCreated, JSON)},
     {"order.created": "application/json", "order.shipped": "application/json"}),
    ({"app": JSON, "event": (OrderShipped, REVERSED)},
     {"order.created": "application/json", "order.shipped": REVERSED.content_type}),
], ids=["default", "app", "topic over app", "event over topic", "event over app"])
def test_the_narrowest_choice_wins_and_names_itself_in_the_header(
    spine_app: SpineAppFactory, chosen: dict[str, Any], expected: dict[str, str]
) -> None:
    """An event class's codec wins over its topic's, which wins over the app's; the header names it."""
    app = Spine()
    if "app" in chosen:
        app.codec(chosen["app"])
    if "topic" in chosen:
        app.codec(chosen["topic"][1], topic=chosen["topic"][0])
    if "event" in chosen:
        app.codec(chosen["event"][1], event=chosen["event"][0])
    assert content_types(app, spine_app) == expected


def test_choosing_a_topic_and_a_class_at_once_is_refused() -> None:
    """``codec(..., topic=, event=)`` is ambiguous and refused."""
    with pytest.raises(ValueError, match="not both"):
        Spine().codec(JSON, topic="order.created", event=OrderCreated)


class Stock:
    seen: list[OrderCreated] = []

    def consume(self, event: OrderCreated) -> None:
        self.seen.append(event)


def consumer(spine_app: SpineAppFactory, *codecs: Any) -> Any:
    Stock.seen = []
    app = Spine()
    for codec in codecs:
        app.codec(codec, topic="other")
    app.constructor(Stock)
    app.consumers().register("order.created", Stock.consume)
    return spine_app(app, options(group="g", http=False))


def test_a_consumer_decodes_each_message_by_its_content_type(spine_app: SpineAppFactory) -> None:
    """Messages in JSON, with no content type (the Go Spine's) and in a codec the app knows all decode."""
    started = consumer(spine_app, REVERSED)
    plain = OutgoingMessage("order.created", JSON.encode(OrderCreated(1)), "k")
    as_json = OutgoingMessage("order.created", JSON.encode(OrderCreated(2)), "k",
                              {Headers.CONTENT_TYPE: "application/json; charset=utf-8"})
    reversed_ = OutgoingMessage("order.created", REVERSED.encode(OrderCreated(3)), "k",
                                {Headers.CONTENT_TYPE: REVERSED.content_type})
    started.broker.publish([plain, as_json, reversed_], 1)
    started.broker.drain()
    assert [e.order_id for e in Stock.seen] == [1, 2, 3]
    assert started.broker.messages("order.created.dlq") == []


def test_an_unknown_content_type_is_dead_lettered_naming_it(spine_app: SpineAppFactory) -> None:
    """A content type no codec of the app decodes is a dead letter whose reason names that type."""
    started = consumer(spine_app)
    odd = OutgoingMessage("order.created", REVERSED.encode(OrderCreated(1)), "k",
                          {Headers.CONTENT_TYPE: REVERSED.content_type})
    started.broker.publish([odd, OutgoingMessage("order.created", JSON.encode(OrderCreated(2)), "k")], 1)
    started.broker.drain()
    assert [e.order_id for e in Stock.seen] == [2]
    [dead] = started.broker.messages("order.created.dlq")
    assert dead.headers[Headers.ERROR_TYPE] == "UnknownContentType"
    assert dead.headers[Headers.ERROR_MESSAGE].startswith(
        "has content type 'application/x-reversed-json', which no codec decodes (known: application/json"
    )


def test_the_asyncapi_document_states_each_message_content_type() -> None:
    """Each message of the AsyncAPI document has the content type of its codec; the default is the app's."""
    from spine_core import Options
    from spine_core.contracts.asyncapi import document

    app = Spine()
    app.codec(REVERSED, event=OrderShipped)
    app.constructor(Orders)
    app.route("POST", "/orders/:order_id", Orders.create, publishes=[OrderCreated, OrderShipped])
    doc = document(app, Options(), "orders")
    types = {m["name"]: m["contentType"] for m in doc["components"]["messages"].values()}
    assert types == {"OrderCreated": "application/json", "OrderShipped": REVERSED.content_type}
    assert doc["defaultContentType"] == "application/json"


@attrs.frozen
class Plain:
    n: int
    tags: list[str]
    at: datetime


def _absolute(n: int) -> int:
    return abs(n)


@attrs.frozen
class Converted:
    n: int = attrs.field(converter=_absolute)


@attrs.frozen
class Private:
    _n: int


def test_the_fast_engine_takes_only_classes_it_reads_as_the_converter_does() -> None:
    """msgspec takes plain attrs classes; a field converter or a private field keeps a class on cattrs."""
    assert fast(Plain) and fast(list[Plain]) and fast(dict[str, Plain | None])
    assert not fast(Converted) and not fast(Private) and not fast(dict[int, str]) and not fast(Any)


@pytest.mark.parametrize("event", [
    Plain(1, ["a"], datetime(2026, 1, 1, tzinfo=timezone.utc)), Converted(-3), Private(4),
])
def test_every_class_round_trips_whichever_engine_takes_it(event: Any) -> None:
    """Fast or not, an encoded instance decodes back equal (a field converter still runs)."""
    assert JSON.decoder(type(event))(JSON.encode(event)) == event
    assert JSON.decoder(Converted)(b'{"n": -5}') == Converted(5)
