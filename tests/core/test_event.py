"""Events: the protocol, the partition key, and the JSON wire encoding."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from attrs import frozen

from spine_core import Event
from spine_core.event import decode, encode, event_key

from .support import AT, OrderCreated, OrderShipped


@frozen
class NumberKeyed:
    n: int

    def name(self) -> str:
        return "numbers"

    def occurred_at(self) -> datetime:
        return AT

    def key(self) -> int:
        return self.n


def test_events_follow_the_protocol() -> None:
    """Anything with ``name()`` and ``occurred_at()`` is an Event; other objects are not."""
    assert isinstance(OrderCreated(1), Event)
    assert not isinstance({"order_id": 1}, Event)


def test_key_is_optional_and_text() -> None:
    """``key()`` gives the partition key as text; an event without it has none."""
    assert event_key(OrderCreated(12345)) == "12345"
    assert event_key(NumberKeyed(7)) == "7"
    assert event_key(OrderShipped(1)) is None


def test_seed_event_wire_form() -> None:
    """The seed's event is compact UTF-8 JSON with an RFC 3339 time (UTC as ``Z``), fields by name."""
    assert encode(OrderCreated(12345)) == b'{"at":"2024-05-01T12:30:00Z","order_id":12345}'


@pytest.mark.parametrize("sent", [
    b'{"order_id":12345,"at":"2024-05-01T12:30:00+00:00"}',  # Spine before the fast engine, Python's isoformat
    b'{"order_id":12345,"at":"2024-05-01T12:30:00Z"}',  # the original Go Spine (RFC 3339)
    b'{"at":"2024-05-01T14:30:00+02:00","order_id":12345}',
])
def test_each_iso_8601_form_of_a_time_decodes_to_the_same_event(sent: bytes) -> None:
    """Times with ``+00:00``, ``Z`` or another offset decode to the same instant, in any field order."""
    assert decode(sent, OrderCreated) == OrderCreated(12345)


def test_decode_round_trips() -> None:
    """Decoding the encoded event gives an equal event, timezone included."""
    event = OrderCreated(9, datetime(2025, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc))
    assert decode(encode(event), OrderCreated) == event


@pytest.mark.parametrize("payload", [
    b"", b"{", b'{"at": "2024-01-01T00:00:00"}', b'{"order_id": "x", "at": "2024-01-01"}',
    b'{"order_id": 1, "at": "2024-01-01T00:00:00\xff"}',  # not UTF-8
])
def test_decode_refuses_bad_payloads(payload: bytes) -> None:
    """A payload that is not the event's JSON raises instead of giving a half-built event."""
    with pytest.raises(Exception):
        decode(payload, OrderCreated)
