# mypy: warn-unreachable=False
# (these tests read attributes again after calls that change them; mypy keeps its first narrowing)
"""The offset tracker: what may be committed, and the port's part for a partition (take, finish, hold)."""

from __future__ import annotations

import importlib
import sys
import time

import pytest

from spine_core.broker import OffsetTracker, Outcome


def tracker(*offsets: int) -> OffsetTracker:
    t = OffsetTracker()
    for offset in offsets:
        t.add(offset)
    return t


def test_committable_stops_at_the_first_unsettled_offset() -> None:
    """A later offset settled first is not committable until every earlier one is settled."""
    t = tracker(5, 6, 7)
    t.finish(6)
    assert t.committable is None and t.first_open(default=0) == 5
    t.finish(5)
    assert t.committable == 7 and t.first_open(default=0) == 7
    t.finish(7)
    assert t.committable == 8 and t.first_open(default=99) == 99


def test_settling_done_in_and_out_of_order_commits_the_settled_prefix() -> None:
    """``settle`` with DONE: in order (its own path) and out of order, mixed, never past an open offset."""
    t = tracker(5, 6, 7, 8)
    for offset in (5, 6, 7, 8):
        assert t.take(offset)
    assert not t.settle(5, Outcome.DONE, 1.0) and t.committable == 6
    t.settle(7, Outcome.DONE, 1.0)
    assert t.committable == 6 and t.first_open(default=0) == 6
    t.settle(6, Outcome.DONE, 1.0)
    assert t.committable == 8 and t.first_open(default=0) == 8
    t.settle(8, Outcome.DONE, 1.0)
    assert t.committable == 9 and t.in_flight == 0 and t.first_open(default=99) == 99


def test_to_commit_gives_new_progress_once_unless_asked_again() -> None:
    """After a commit the same offset is not given again, except for a handover (``again``)."""
    t = tracker(0)
    t.finish(0)
    assert t.to_commit() == 1
    t.committed = 1
    assert t.to_commit() is None
    assert t.to_commit(again=True) == 1


def test_take_counts_in_flight_and_refuses_once_not_live() -> None:
    """Taking an offset counts it in flight and remembers the highest started; a partition no
    longer live refuses it."""
    t = tracker(3, 4)
    assert t.take(4) and t.take(3)
    assert (t.in_flight, t.started) == (2, 4)
    t.live = False
    assert not t.take(5)
    assert t.in_flight == 2


def test_worth_finishing_only_what_lies_before_a_started_offset() -> None:
    """While stopping, an offset before one already started is worth finishing; a later one, or
    any of a partition no longer live, is not."""
    t = tracker(1, 2, 3)
    t.take(2)
    assert t.worth_finishing(1)
    assert not t.worth_finishing(3)
    t.live = False
    assert not t.worth_finishing(1)


def test_done_finishes_and_nack_holds_the_partition_once() -> None:
    """DONE advances what is committable; the first Nack holds the live partition for the
    redelivery delay, a second one (already held) changes nothing."""
    t = tracker(0, 1, 2)
    for offset in (0, 1, 2):
        t.take(offset)
    before = time.monotonic()
    assert not t.settle(0, Outcome.DONE, 1.0)
    assert t.settle(1, Outcome.RETRY, 1.0)
    assert not t.live and before + 1.0 <= t.held_until <= time.monotonic() + 1.0
    held_until = t.held_until
    assert not t.settle(2, Outcome.RETRY, 5.0)
    assert t.held_until == held_until
    assert (t.committable, t.first_open(default=9), t.in_flight) == (1, 1, 0)


def test_handed_over_once_not_live_and_nothing_in_flight() -> None:
    """A revoked partition is handed over when its last message in flight settled."""
    t = tracker(0, 1)
    t.take(0)
    t.take(1)
    t.live = False
    t.settle(0, Outcome.DONE, 1.0)
    assert not t.handed_over
    t.settle(1, Outcome.DONE, 1.0)
    assert t.handed_over and t.committable == 2


def test_successor_is_not_live_and_keeps_what_was_committed() -> None:
    """The tracker that replaces a rewound one waits to be fetched again and knows the commit."""
    t = tracker(0)
    t.committed = 7
    fresh = t.successor()
    assert not fresh.live and fresh.committed == 7 and fresh.to_commit() is None
    assert fresh.first_open(default=3) == 3


def test_the_old_module_still_works_and_warns() -> None:
    """``spine_core.consumers.offsets`` re-exports the tracker for one release, with a DeprecationWarning."""
    sys.modules.pop("spine_core.consumers.offsets", None)
    with pytest.warns(DeprecationWarning, match="spine_core.broker"):
        old = importlib.import_module("spine_core.consumers.offsets")
    assert old.OffsetTracker is OffsetTracker
