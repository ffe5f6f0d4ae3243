"""The msgpack codec: the decoding matrix of JSON over msgpack's values, errors naming the field,
datetimes as msgpack timestamps, and events consumed in msgpack."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import msgspec
import pytest
from spine_memory.pytest_plugin import SpineAppFactory

from spine_core import JSON, MSGPACK
from spine_core.decoding import DecodeError
from spine_core.cli.dlq import payload_text
from spine_core.event import to_message
from spine_core.messages import Headers

from .support import OrderCreated
from .test_codecs import Stock, consumer
from .test_decoding import ACCEPTED, JSON_VALUES, holder

CASES = [(kind, name) for kind in ACCEPTED for name in JSON_VALUES if name != "below int64"]  # not msgpack


@pytest.mark.parametrize("kind, name", CASES, ids=[f"{k}-{n}" for k, n in CASES])
def test_each_value_against_each_field_type(kind: Any, name: str) -> None:
    """msgpack takes exactly what JSON takes, decoded alike; what JSON refuses it refuses, naming the field."""
    cls = holder(kind)
    value = {"v": JSON_VALUES[name]}
    outcomes: list[Any] = []
    for codec, payload in ((JSON, msgspec.json.encode(value)), (MSGPACK, msgspec.msgpack.encode(value))):
        try:
            outcomes.append(codec.decoder(cls)(payload))
        except DecodeError as e:  # a datetime is also a timestamp in msgpack
            outcomes.append(str(e).replace("a msgpack timestamp or ", ""))
    if name in ACCEPTED[kind]:
        assert outcomes[1] == outcomes[0]
    else:  # the JSON converter may say "expected a mapping" once cattrs cached its own dict hook
        assert all(isinstance(o, str) and o.startswith("does not fit Holder: field 'v") for o in outcomes), outcomes


@pytest.mark.parametrize("value, message", [
    ({"v": "12"}, "field 'v': expected an integer, got a string"),
    ({"v": 1.5}, "field 'v': expected an integer, got a fraction"),
    ({"v": 2**63}, "field 'v': expected a 64-bit integer (from -9223372036854775808 to 9223372036854775807), "
                   "got one out of range"),
    ({}, "field 'v': required field missing"),
])
def test_a_refusal_names_the_field(value: Any, message: str) -> None:
    """A refused msgpack payload says which field and why, as JSON's does."""
    with pytest.raises(DecodeError) as caught:
        MSGPACK.decoder(holder(int))(msgspec.msgpack.encode(value))
    assert str(caught.value) == f"does not fit Holder: {message}"


def test_a_float_that_is_not_finite_and_bytes_that_are_not_msgpack_are_refused() -> None:
    """Infinity (which msgpack can carry, JSON cannot) is refused as in JSON; so is a broken payload."""
    with pytest.raises(DecodeError, match="field 'v': expected a number, got one out of range"):
        MSGPACK.decoder(holder(float))(msgspec.msgpack.encode({"v": float("inf")}))
    with pytest.raises(DecodeError, match="is not valid msgpack"):
        MSGPACK.decoder(holder(int))(b"\xc1")


def test_an_aware_datetime_is_a_msgpack_timestamp_decoded_as_the_same_instant() -> None:
    """An aware datetime travels as extension -1 (a timestamp) and comes back equal, in UTC."""
    at = datetime(2026, 12, 7, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=9)))
    payload = MSGPACK.encode(OrderCreated(5, at))
    assert b"\xd7\xff" in payload  # fixext 8 of type -1: a 64-bit timestamp
    decoded = MSGPACK.decoder(OrderCreated)(payload)
    assert decoded == OrderCreated(5, at) and decoded.at.utcoffset() == timedelta(0)
    assert MSGPACK.decoder(holder(date))(MSGPACK.encode(holder(date)(date(2026, 12, 7)))).v == date(2026, 12, 7)


def test_an_app_publishing_msgpack_is_consumed_by_one_that_did_not_choose_it(spine_app: SpineAppFactory) -> None:
    """A consumer decodes msgpack by the content-type header without choosing the codec itself."""
    started = consumer(spine_app)
    message = to_message(OrderCreated(11), "", "c", codec=MSGPACK)
    assert message.headers[Headers.CONTENT_TYPE] == "application/msgpack"
    started.broker.publish([message], 1)
    started.broker.drain()
    assert [e.order_id for e in Stock.seen] == [11]


@pytest.mark.parametrize("content_type, value, shown", [
    (None, b'{"order_id":1}', '{\n  "order_id": 1\n}'),
    ("application/msgpack", msgspec.msgpack.encode({"order_id": 1}), '{\n  "order_id": 1\n}'),
    ("application/x-other", b"\x01", "(application/x-other, no codec) b'\\x01'"),
])
def test_dlq_show_prints_each_codec_as_json(content_type: str | None, value: bytes, shown: str) -> None:
    """``spine dlq show`` prints a JSON or msgpack payload as indented JSON and names a type it cannot read."""
    assert payload_text(value, content_type) == shown
