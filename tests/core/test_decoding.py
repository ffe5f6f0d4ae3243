"""Strict decoding: every JSON type against every field type, over HTTP and for consumed events;
a wrong type is a 400 (or a dead letter) naming the field, never a conversion."""

from __future__ import annotations

from spine_memory.pytest_plugin import SpineAppFactory

from datetime import datetime, timezone
from typing import Any, Optional

import attrs
import pytest
from attrs import define, frozen

from spine_core import BigInt, Spine
from spine_core.decoding import INT64_MAX, INT64_MIN, DecodeError
from spine_core.event import decode, encode
from spine_core.messages import Headers, OutgoingMessage

from .support import options


@frozen
class Inner:
    a: int


JSON_VALUES: dict[str, Any] = {
    "string": "text", "digits": "12", "integer": 12, "fraction": 1.7, "whole fraction": 2.0,
    "true": True, "null": None, "array": [1], "object": {"a": 1},
    "int64 max": INT64_MAX, "int64 min": INT64_MIN, "above int64": INT64_MAX + 1, "below int64": INT64_MIN - 1,
    "huge fraction": 1e30,
}
BIG = {"int64 max": INT64_MAX, "int64 min": INT64_MIN, "above int64": INT64_MAX + 1, "below int64": INT64_MIN - 1}
FLOATS = {"integer": 12.0, "fraction": 1.7, "whole fraction": 2.0, "int64 max": float(INT64_MAX),
          "int64 min": float(INT64_MIN), "above int64": float(INT64_MAX + 1), "below int64": float(INT64_MIN - 1),
          "huge fraction": 1e30}
# field type -> the JSON values (by name above) it takes, and what each becomes; every other value is refused.
# A whole number written as a fraction (2.0) is an integer, as in JSON Schema; an int is 64-bit, a BigInt is not.
ACCEPTED: dict[Any, dict[str, Any]] = {
    str: {"string": "text", "digits": "12"},
    int: {"integer": 12, "whole fraction": 2, "int64 max": INT64_MAX, "int64 min": INT64_MIN},
    BigInt: {"integer": 12, "whole fraction": 2, **BIG, "huge fraction": int(1e30)},
    float: FLOATS,
    bool: {"true": True},
    list[int]: {"array": [1]},
    list[str]: {},
    tuple[int, ...]: {"array": [1]},
    set[int]: {"array": [1]},
    dict[str, int]: {"object": {"a": 1}},
    Inner: {"object": {"a": 1}},
    datetime: {},
    Optional[int]: {"integer": 12, "null": None, "whole fraction": 2, "int64 max": INT64_MAX, "int64 min": INT64_MIN},
    int | str: {"integer": 12, "string": "text", "digits": "12", "whole fraction": 2, "int64 max": INT64_MAX,
                "int64 min": INT64_MIN},
    Optional[Inner]: {"object": {"a": 1}, "null": None},
}
CASES = [(kind, name) for kind in ACCEPTED for name in JSON_VALUES]


def holder(kind: Any) -> type:
    return attrs.make_class("Holder", {"v": attrs.field(type=kind)}, frozen=True)


def echo_app(cls: type) -> Spine:
    def echo(body: Any) -> Any:
        return body

    echo.__annotations__ = {"body": cls, "return": Any}
    app = Spine()
    app.route("POST", "/v", echo)
    return app


@pytest.mark.parametrize("kind, name", CASES, ids=[f"{k}-{n}" for k, n in CASES])
def test_each_json_type_against_each_field_type_over_http(spine_app: SpineAppFactory, kind: Any, name: str) -> None:
    """A value of the field's own JSON type is taken as it is; any other is a 400 naming the field."""
    client = spine_app(echo_app(holder(kind)), options()).client
    result = client.simulate_post("/v", json={"v": JSON_VALUES[name]})
    accepted = ACCEPTED[kind]
    if name in accepted:
        assert result.status_code == 200, result.text
        assert result.json == {"v": accepted[name]} or kind is set[int] and result.json == {"v": [1]}
    else:
        assert result.status_code == 400, result.text
        assert result.json["message"].startswith("request body does not fit Holder: field 'v")
        assert "expected" in result.json["message"]


@pytest.mark.parametrize("sent, message", [
    ({"name": {"a": 1}, "qty": 1}, "field 'name': expected a string, got an object"),
    ({"name": None, "qty": 1}, "field 'name': expected a string, got null"),
    ({"name": "x", "qty": 1.7}, "field 'qty': expected an integer, got a fraction"),
    ({"name": "x", "qty": 2**63}, "field 'qty': expected a 64-bit integer (from -9223372036854775808 to "
                                  "9223372036854775807), got one out of range"),
    ({"name": "x", "qty": "12"}, "field 'qty': expected an integer, got a string"),
    ({"name": "x", "qty": True}, "field 'qty': expected an integer, got a boolean"),
    ({"name": "x", "qty": 1, "tags": "abc"}, "field 'tags': expected an array, got a string"),
    ({"name": "x", "qty": 1, "lines": [{"a": 1}, {"a": "2"}]}, "field 'lines[1].a': expected an integer, got a string"),
    ({"name": "x"}, "field 'qty': required field missing"),
    (b'{"name": "x", "qty": 1, "price": 1e999}', "field 'price': expected a number, got one out of range"),
    ([1, 2], "expected an object, got an array"),
])
def test_the_message_names_the_field_and_both_types(sent: object, message: str) -> None:
    @define
    class Item:
        name: str
        qty: int
        tags: list[str] = attrs.Factory(list)
        lines: list[Inner] = attrs.Factory(list)
        price: float = 0.0

    with pytest.raises(DecodeError) as caught:
        decode(sent if isinstance(sent, bytes) else encode(sent), Item)
    assert str(caught.value) == f"does not fit Item: {message}"


def test_extra_keys_are_ignored_and_events_round_trip() -> None:
    """Unknown keys are ignored (a newer producer may add fields); an encoded event decodes back."""
    at = datetime(2024, 5, 1, 12, 30, tzinfo=timezone.utc)
    kind = holder(datetime)
    assert decode(b'{"v": "2024-05-01T12:30:00+00:00", "added_later": 1}', kind) == kind(at)
    assert decode(encode(kind(at)), kind) == kind(at)


@pytest.mark.parametrize("body, message", [
    (b"[" * 100_000 + b"]" * 100_000, "request body is nested too deeply"),
    (b'{"v": NaN}', "request body is not valid JSON: NaN is not a JSON value"),
    (b'{"v": ' + b"9" * 5000 + b"}", "request body is not valid JSON: "),
    (b"\xff\xfe", "request body is not valid JSON: "),
    (b'{"v": 1', "request body is not valid JSON: "),
])
def test_a_body_the_decoder_cannot_handle_is_a_400(spine_app: SpineAppFactory, body: bytes, message: str) -> None:
    client = spine_app(echo_app(holder(int)), options()).client
    result = client.simulate_post("/v", body=body, headers={"Content-Type": "application/json"})
    assert result.status_code == 400
    assert result.json["message"].startswith(message)


class Stock:
    seen: list[Inner] = []

    def consume(self, event: Inner) -> None:
        self.seen.append(event)


@pytest.mark.parametrize("value, reason", [
    (b'{"a": "12"}', "does not fit Inner: field 'a': expected an integer, got a string"),
    (b'{"a": 1.5}', "does not fit Inner: field 'a': expected an integer, got a fraction"),
    (b'{"a": null}', "does not fit Inner: field 'a': expected an integer, got null"),
    (b'{"a": 99999999999999999999999}', "does not fit Inner: field 'a': expected a 64-bit integer "
                                        "(from -9223372036854775808 to 9223372036854775807), got one out of range"),
    (b"[" * 100_000, "is nested too deeply"),
])
def test_an_event_that_does_not_fit_its_class_is_dead_lettered_with_the_reason(
    spine_app: SpineAppFactory, value: bytes, reason: str
) -> None:
    Stock.seen = []
    app = Spine()
    app.constructor(Stock)
    app.consumers().register("inner.created", Stock.consume)
    started = spine_app(app, options(group="g", http=False))
    messages = [OutgoingMessage("inner.created", value, "k"), OutgoingMessage("inner.created", b'{"a": 7}', "k")]
    started.broker.publish(messages, 1)
    started.broker.drain()
    assert Stock.seen == [Inner(7)]
    [dead] = started.broker.messages("inner.created.dlq")
    assert dead.value == value
    assert dead.headers[Headers.ERROR_MESSAGE] == reason
    assert dead.headers[Headers.ERROR_TYPE] == "DecodeError"
