"""Header text: what clients hand over becomes Spine's ``str`` headers."""

from __future__ import annotations

from spine_core.broker import as_text, text_headers


def test_bytes_are_decoded_and_none_is_empty() -> None:
    """Pairs of bytes (Kafka) are decoded as UTF-8, a bad byte replaced; a None value is ``""``."""
    raw = [("event-name", b"order.created"), ("note", b"caf\xc3\xa9 \xff"), ("empty", None)]
    assert text_headers(raw) == {"event-name": "order.created", "note": "café \ufffd", "empty": ""}


def test_a_mapping_with_byte_names_numbers_and_tables() -> None:
    """A mapping works too: byte names decoded, numbers as digits, tables and arrays left out."""
    raw = {b"h": b"v", "count": 3, "ratio": 0.5, "x-death": [{"count": 1}], "table": {"a": 1}, "s": "text"}
    assert text_headers(raw) == {"h": "v", "count": "3", "ratio": "0.5", "s": "text"}


def test_a_brokers_own_headers_are_skipped_where_asked() -> None:
    """``skip_prefix`` leaves out the broker's own headers (RabbitMQ's ``x-``), and only those."""
    raw = {"x-delivery-count": 2, "event-id": "e1"}
    assert text_headers(raw, skip_prefix="x-") == {"event-id": "e1"}
    assert text_headers(raw) == {"x-delivery-count": "2", "event-id": "e1"}


def test_no_headers() -> None:
    """None and empty collections give no headers."""
    assert text_headers(None) == {} == text_headers([]) == text_headers({})


def test_as_text() -> None:
    """Bytes are decoded without ever failing; text is returned as is."""
    assert as_text(b"1700000000000-0") == "1700000000000-0"
    assert as_text(b"\xff") == "\ufffd"
    assert as_text("s") == "s"


def test_incoming_message_is_the_same_frozen_instance_as_the_class_makes() -> None:
    import attrs
    import pytest

    from spine_core.broker import IncomingMessage, incoming_message

    made = incoming_message("t", b"v", "k", {"a": "b"}, {"partition": "1"})
    assert type(made) is IncomingMessage
    assert made == IncomingMessage("t", b"v", "k", {"a": "b"}, {"partition": "1"})
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        made.key = "other"  # type: ignore[misc]
    assert attrs.evolve(made, key=None).key is None and made.key == "k"
    assert "headers={'a': 'b'}" in repr(made)
