"""The delivery engine: per-lane order, parallel lanes, settlement outcomes, bounded pending, drain."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from spine_core.broker import (
    ACK, NACK, DeadLetter, IncomingMessage, Lanes, OutgoingMessage, Outcome, PublishError, Settlement,
    Subscription,
)

DEADLINE = 5.0


class RecordingPort:
    """A broker side that records what the engine reports; items are (topic, n)."""

    def __init__(self, fail_dead_letters: bool = False) -> None:
        self.outcomes: dict[int, Outcome] = {}
        self.letters: list[OutgoingMessage] = []
        self.skip: set[int] = set()
        self.finish_anyway: set[int] = set()
        self.fail_dead_letters = fail_dead_letters
        self.done = threading.Condition()

    def message(self, item: tuple[str, int]) -> IncomingMessage:
        return IncomingMessage(item[0], str(item[1]).encode(), "k", {"event-id": f"e{item[1]}"}, {"n": str(item[1])})

    def take(self, item: tuple[str, int]) -> bool:
        return item[1] not in self.skip

    def settled(self, item: tuple[str, int], outcome: Outcome) -> bool:
        with self.done:
            self.outcomes[item[1]] = outcome
            self.done.notify_all()
        return False

    def worth_finishing(self, item: tuple[str, int]) -> bool:
        return item[1] in self.finish_anyway

    def dead_letter(self, letter: OutgoingMessage) -> None:
        if self.fail_dead_letters:
            raise PublishError("not confirmed")
        self.letters.append(letter)

    def wait(self, count: int) -> None:
        with self.done:
            assert self.done.wait_for(lambda: len(self.outcomes) >= count, DEADLINE), self.outcomes


def engine(port: RecordingPort, deliver: Callable[[IncomingMessage], Settlement], workers: int = 4,
           max_pending: int = 100) -> Lanes[tuple[str, int]]:
    lanes: Lanes[tuple[str, int]] = Lanes(
        port, [Subscription("t", deliver)], workers=workers, max_pending=max_pending, name="test"
    )
    lanes.start()
    return lanes


def test_one_lane_is_delivered_in_order_one_at_a_time() -> None:
    """Items of one lane reach deliver in submission order, never two at once."""
    port, seen, busy = RecordingPort(), [], threading.Lock()

    def deliver(message: IncomingMessage) -> Settlement:
        assert busy.acquire(blocking=False), "two messages of one lane at once"
        seen.append(int(message.value))
        time.sleep(0.001)
        busy.release()
        return ACK

    lanes = engine(port, deliver)
    lanes.submit([(("t", "same"), ("t", n)) for n in range(50)])
    port.wait(50)
    assert seen == list(range(50))
    assert set(port.outcomes.values()) == {Outcome.DONE}


def test_different_lanes_run_in_parallel() -> None:
    """A blocked lane does not hold up the other lanes (only those in its worker's batch)."""
    port, release = RecordingPort(), threading.Event()

    def deliver(message: IncomingMessage) -> Settlement:
        if message.value == b"0":
            release.wait(DEADLINE)
        return ACK

    lanes = engine(port, deliver)
    lanes.submit([(("t", n), ("t", n)) for n in range(10)])
    port.wait(8)
    assert 0 not in port.outcomes
    release.set()
    port.wait(10)


def broken() -> Settlement:
    raise RuntimeError("a deliver that broke its promise")


def test_settlements_become_outcomes() -> None:
    """Ack and a confirmed dead letter are DONE (the letter keeps key, value and headers and adds
    the reason); Nack and a raising deliver are RETRY."""
    port = RecordingPort()
    answers: dict[bytes, Callable[[], Settlement]] = {
        b"1": lambda: ACK,
        b"2": lambda: DeadLetter("t.dlq", {"why": "poison"}),
        b"3": lambda: NACK,
        b"4": broken,
    }
    lanes = engine(port, lambda m: answers[m.value]())
    lanes.submit([(("t", n), ("t", n)) for n in range(1, 5)])
    port.wait(4)
    assert port.outcomes == {1: Outcome.DONE, 2: Outcome.DONE, 3: Outcome.RETRY, 4: Outcome.RETRY}
    [letter] = port.letters
    assert (letter.topic, letter.key, letter.value) == ("t.dlq", "k", b"2")
    assert letter.headers == {"event-id": "e2", "why": "poison"}


def test_an_unconfirmed_dead_letter_is_retried_not_settled() -> None:
    """If the dead letter is not confirmed, the original is redelivered rather than lost."""
    port = RecordingPort(fail_dead_letters=True)
    lanes = engine(port, lambda m: DeadLetter("t.dlq", {}))
    lanes.submit([(("t", 1), ("t", 1))])
    port.wait(1)
    assert port.outcomes == {1: Outcome.RETRY}


def test_items_the_port_no_longer_owns_are_dropped() -> None:
    """``take`` answering False (revoked, channel closed) drops the item undelivered."""
    port, seen = RecordingPort(), []
    port.skip = {2}

    def record(message: IncomingMessage) -> Settlement:
        seen.append(message.value)
        return ACK

    lanes = engine(port, record)
    lanes.submit([(("t", "k"), ("t", n)) for n in (1, 2, 3)])
    port.wait(2)
    assert seen == [b"1", b"3"] and 2 not in port.outcomes


def test_room_is_bounded_by_max_pending() -> None:
    """``room`` says how many more items may be submitted."""
    port, release = RecordingPort(), threading.Event()
    lanes = engine(port, lambda m: ACK if release.wait(DEADLINE) else NACK, workers=1, max_pending=10)
    lanes.submit([(("t", "k"), ("t", n)) for n in range(8)])
    assert lanes.room(0.01) == 3  # one of the eight is in flight
    release.set()
    port.wait(8)
    assert lanes.room(0.01) == 10


@pytest.mark.parametrize("handler_seconds, drained", [(0.05, True), (DEADLINE, False)])
def test_drain_waits_for_work_in_flight_until_the_deadline(handler_seconds: float, drained: bool) -> None:
    """After stop, drain returns True once what is in flight finished, False at the deadline;
    queued items are not started."""
    port, entered, release = RecordingPort(), threading.Event(), threading.Event()

    def deliver(message: IncomingMessage) -> Settlement:
        entered.set()
        release.wait(handler_seconds)
        return ACK

    lanes = engine(port, deliver, workers=1)
    lanes.submit([(("t", "k"), ("t", n)) for n in range(3)])
    assert entered.wait(DEADLINE)
    lanes.stop()
    assert lanes.drain(time.monotonic() + 0.5) is drained
    release.set()
    lanes.join(DEADLINE)
    assert list(port.outcomes) == [0]


def test_stopping_still_finishes_what_the_port_deems_worth_it() -> None:
    """While stopping, a queued item the port wants finished (e.g. before a handled offset) runs."""
    port, entered, release = RecordingPort(), threading.Event(), threading.Event()
    port.finish_anyway = {1}

    def deliver(message: IncomingMessage) -> Settlement:
        if message.value == b"0":
            entered.set()
            release.wait(DEADLINE)
        return ACK

    lanes = engine(port, deliver, workers=1)
    lanes.submit([(("t", "k"), ("t", n)) for n in range(3)])
    assert entered.wait(DEADLINE)
    lanes.stop()
    release.set()
    assert lanes.drain(time.monotonic() + DEADLINE)
    assert sorted(port.outcomes) == [0, 1]


def test_one_idle_worker_is_woken_at_a_time_and_it_wakes_the_next() -> None:
    """Work submitted while a woken worker has not looked for work yet wakes no other; the woken one
    wakes the next for what it leaves, so that blocking handlers still fill every worker."""
    port, running, release = RecordingPort(), set(), threading.Event()

    def deliver(message: IncomingMessage) -> Settlement:
        running.add(threading.current_thread().name)
        release.wait(DEADLINE)
        return ACK

    lanes = engine(port, deliver, workers=4)
    deadline = time.monotonic() + DEADLINE
    while lanes._idle < 4 and time.monotonic() < deadline:
        time.sleep(0.001)
    notified: list[int] = []
    notify = lanes._work_ready.notify

    def counted(n: int = 1) -> None:
        notified.append(n)
        notify(n)

    lanes._work_ready.notify = counted  # type: ignore[method-assign]
    with lanes.lock:
        for n in range(0, 400, 100):
            lanes.submit_locked([(("t", k), ("t", k)) for k in range(n, n + 100)])
        assert notified == [1]
    while len(running) < 4 and time.monotonic() < deadline:
        time.sleep(0.001)
    assert len(running) == 4, running
    release.set()
    port.wait(400)
