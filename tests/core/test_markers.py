"""Dead-letter replay with markers (append-only logs): listing leaves out what a marker names."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

import pytest

from spine_core.broker import Headers, OutgoingMessage, StoredDeadLetter, dlq_markers


def letter(offset: int, event_id: str, at: str) -> StoredDeadLetter:
    headers = {Headers.EVENT_ID: event_id, Headers.DEAD_LETTERED_AT: at, Headers.ERROR_TYPE: "ValueError",
               Headers.ORIGINAL_TOPIC: "t"}
    return StoredDeadLetter("t.dlq", b"{}", "k", headers, {"partition": "0", "offset": str(offset)})


def stored_marker(offset: int, of: StoredDeadLetter) -> StoredDeadLetter:
    m = dlq_markers.marker(of)
    return StoredDeadLetter(m.topic, m.value, m.key, dict(m.headers), {"partition": "0", "offset": str(offset)})


def test_waiting_leaves_out_markers_and_what_they_name_oldest_first() -> None:
    """A replayed dead letter and its marker are not listed; the rest come by dead-letter time."""
    a, b, c = letter(0, "a", "2026-01-02"), letter(1, "b", "2026-01-01"), letter(2, "c", "2026-01-03")
    waiting = dlq_markers.waiting([a, b, c, stored_marker(3, a)])
    assert [w.event_id for w in waiting] == ["b", "c"]


def test_replay_publishes_the_copy_then_its_marker() -> None:
    """Each chosen dead letter is published back without its dead-letter headers, then its marker."""
    a, b = letter(0, "a", "1"), letter(1, "b", "2")
    published: list[OutgoingMessage] = []

    def publish(messages: Sequence[OutgoingMessage]) -> None:
        published.extend(messages)

    replayed = dlq_markers.replay([a, b], ["b"], publish)
    assert [r.event_id for r in replayed] == ["b"]
    copy, marker = published
    assert copy.topic == "t" and Headers.ERROR_TYPE not in copy.headers
    assert marker.topic == "t.dlq" and marker.headers[dlq_markers.REPLAYED] == "offset=1 partition=0"


def test_a_failed_publish_replays_nothing_more() -> None:
    """When publishing the copy fails, its marker is not written and the error reaches the caller."""
    def publish(messages: Sequence[OutgoingMessage]) -> None:
        raise RuntimeError("broker away")

    with pytest.raises(RuntimeError):
        dlq_markers.replay([letter(0, "a", "1")], None, publish)


def test_the_old_module_still_works_and_warns() -> None:
    """``spine_core.dlq.markers`` re-exports the functions for one release, with a DeprecationWarning."""
    sys.modules.pop("spine_core.dlq.markers", None)
    with pytest.warns(DeprecationWarning, match="spine_core.broker"):
        old = importlib.import_module("spine_core.dlq.markers")
    assert old.replay is dlq_markers.replay and old.waiting is dlq_markers.waiting
