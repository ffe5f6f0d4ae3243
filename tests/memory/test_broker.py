"""The memory broker: groups, key order, settlement, redelivery, dead letters, drain, outages, threads."""

from __future__ import annotations

from typing import Any

import threading
from collections import defaultdict
from collections.abc import Callable, Iterator

import pytest

from spine_core import PublishError
from spine_core.messages import ACK, NACK, DeadLetter, IncomingMessage, OutgoingMessage, Settlement, Subscription
from spine_core.options import BrokerConfig
from spine_memory import MemoryBroker, MemoryPlugin
from spine_memory.broker import Member

DEADLINE = 5.0


class Recorder:
    """A ``deliver`` callable that records what it got and answers ``settle(message)``."""

    def __init__(self, settle: Callable[[IncomingMessage], Settlement] = lambda m: ACK) -> None:
        self.settle = settle
        self.received: list[IncomingMessage] = []
        self._lock = threading.Lock()

    def __call__(self, message: IncomingMessage) -> Settlement:
        with self._lock:
            self.received.append(message)
        return self.settle(message)

    @property
    def values(self) -> list[bytes]:
        return [m.value for m in self.received]


def out(topic: str, value: str, key: str | None = None, **headers: str) -> OutgoingMessage:
    return OutgoingMessage(topic, value.encode(), key, headers)


@pytest.fixture
def broker() -> Iterator[MemoryBroker]:
    """A fresh broker whose members are all stopped after the test."""
    b = MemoryBroker()
    members: list[Member] = []
    join = b.join

    def tracked_join(group_id: str, subscriptions: list[Subscription], **options: Any) -> Member:
        member = join(group_id, subscriptions, **options)
        members.append(member)
        return member

    b.join = tracked_join  # type: ignore[method-assign]
    yield b
    for member in members:
        if not member.closed:
            b.leave(member, timeout=1.0)


def test_each_group_receives_every_message_once(broker: MemoryBroker) -> None:
    """Two groups on one topic both receive each message, exactly once each."""
    billing, stock = Recorder(), Recorder()
    broker.join("billing", [Subscription("t", billing)])
    broker.join("stock", [Subscription("t", stock)])
    broker.publish([out("t", f"m{i}", key=str(i)) for i in range(20)], timeout=1)
    broker.drain(DEADLINE)
    expected = sorted(f"m{i}".encode() for i in range(20))
    assert sorted(billing.values) == expected
    assert sorted(stock.values) == expected


def test_members_of_a_group_share_the_messages(broker: MemoryBroker) -> None:
    """Within one group each message reaches exactly one member, and both members get work."""
    first, second = Recorder(), Recorder()
    broker.join("g", [Subscription("t", first)])
    broker.join("g", [Subscription("t", second)])
    broker.publish([out("t", f"m{i}", key=str(i)) for i in range(40)], timeout=1)
    broker.drain(DEADLINE)
    assert sorted(first.values + second.values) == sorted(f"m{i}".encode() for i in range(40))
    assert first.values and second.values


def test_a_late_group_reads_from_the_beginning(broker: MemoryBroker) -> None:
    """A group that joins after messages were published still receives them."""
    broker.publish([out("t", "early")], timeout=1)
    late = Recorder()
    broker.join("late", [Subscription("t", late)])
    broker.drain(DEADLINE)
    assert late.values == [b"early"]


def test_one_member_can_subscribe_to_several_topics(broker: MemoryBroker) -> None:
    """Each subscription's deliver gets its own topic's messages."""
    a, b = Recorder(), Recorder()
    broker.join("g", [Subscription("a", a), Subscription("b", b)])
    broker.publish([out("a", "1"), out("b", "2")], timeout=1)
    broker.drain(DEADLINE)
    assert (a.values, b.values) == ([b"1"], [b"2"])


def test_same_key_is_delivered_in_publish_order_across_members(broker: MemoryBroker) -> None:
    """Messages with one key arrive in publish order, however many members share the group."""
    members = [Recorder() for _ in range(3)]
    for r in members:
        broker.join("g", [Subscription("t", r)])
    broker.publish([out("t", f"{k}:{i}", key=k) for i in range(30) for k in "abcd"], timeout=1)
    broker.drain(DEADLINE)
    by_key: dict[str, list[int]] = defaultdict(list)
    for r in members:
        for m in r.received:
            key, index = m.value.decode().split(":")
            by_key[key].append(int(index))
    assert by_key == {k: list(range(30)) for k in "abcd"}


def test_a_busy_partition_does_not_starve_the_others(broker: MemoryBroker) -> None:
    """A member serves its partitions in turn: one message behind a long backlog of another key is not kept waiting."""
    broker.publish([out("t", "hot", key="d") for _ in range(20)] + [out("t", "cold", key="b")], timeout=1)
    partitions = {m.value: m.partition for m in broker.messages("t")}
    assert partitions[b"hot"] < partitions[b"cold"], "precondition: the backlog is on the partition served first"
    r = Recorder()
    broker.join("g", [Subscription("t", r)])
    broker.drain(DEADLINE)
    assert r.values.index(b"cold") < broker.partitions


def test_same_key_lands_on_one_partition(broker: MemoryBroker) -> None:
    """A key always maps to the same partition; keyless messages spread over partitions."""
    broker.publish([out("t", str(i), key="order-1") for i in range(10)], timeout=1)
    broker.publish([out("u", str(i)) for i in range(8)], timeout=1)
    assert len({m.partition for m in broker.messages("t")}) == 1
    assert [m.offset for m in broker.messages("t")] == list(range(10))
    assert len({m.partition for m in broker.messages("u")}) == broker.partitions


def test_nack_redelivers_the_same_message(broker: MemoryBroker) -> None:
    """A Nack leaves the offset uncommitted: the message comes again, before later ones of its key."""
    answers = iter([NACK, ACK, ACK])
    r = Recorder(lambda m: next(answers))
    broker.join("g", [Subscription("t", r)])
    broker.publish([out("t", "first", key="k"), out("t", "second", key="k")], timeout=1)
    broker.drain(DEADLINE)
    assert r.values == [b"first", b"first", b"second"]
    assert r.received[0].position == r.received[1].position


def test_deliver_that_raises_is_redelivered(broker: MemoryBroker) -> None:
    """A deliver callable that raises counts as a Nack: the member lives on and gets the message again."""
    answers = iter([RuntimeError("bug"), ACK, ACK])

    def settle(message: IncomingMessage) -> Settlement:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    r = Recorder(settle)
    broker.join("g", [Subscription("t", r)])
    broker.publish([out("t", "first", key="k"), out("t", "second", key="k")], timeout=1)
    broker.drain(DEADLINE)
    assert r.values == [b"first", b"first", b"second"]


def test_dead_letter_moves_the_message_and_goes_on(broker: MemoryBroker) -> None:
    """A DeadLetter copies the message with its reason to the named topic, then commits it."""
    r = Recorder(lambda m: DeadLetter("t.dlq", {"why": "poison"}) if m.value == b"bad" else ACK)
    broker.join("g", [Subscription("t", r)])
    broker.publish([out("t", "bad", key="k", origin="test"), out("t", "good", key="k")], timeout=1)
    broker.drain(DEADLINE)
    assert r.values == [b"bad", b"good"]
    [dead] = broker.messages("t.dlq")
    assert (dead.value, dead.key) == (b"bad", "k")
    assert dead.headers == {"origin": "test", "why": "poison"}


def test_abrupt_leave_redelivers_the_unsettled_message(broker: MemoryBroker) -> None:
    """A member that leaves before settling loses its message to the next owner; its late answer is ignored."""
    entered, release = threading.Event(), threading.Event()

    def stuck(message: IncomingMessage) -> Settlement:
        entered.set()
        release.wait(DEADLINE)
        return ACK

    first = Recorder(stuck)
    member = broker.join("g", [Subscription("t", first)])
    broker.publish([out("t", "m1", key="k"), out("t", "m2", key="k")], timeout=1)
    assert entered.wait(DEADLINE)
    broker.leave(member, timeout=0)
    second = Recorder()
    broker.join("g", [Subscription("t", second)])
    broker.drain(DEADLINE)
    release.set()
    member.thread.join(DEADLINE)  # type: ignore[union-attr]
    assert first.values == [b"m1"]
    assert second.values == [b"m1", b"m2"]
    assert second.received[0].position == first.received[0].position


def test_graceful_leave_settles_the_message_in_flight(broker: MemoryBroker) -> None:
    """A member leaving with time to spare finishes its message, which is then not redelivered."""
    entered, release = threading.Event(), threading.Event()

    def slow(message: IncomingMessage) -> Settlement:
        entered.set()
        release.wait(DEADLINE)
        return ACK

    member = broker.join("g", [Subscription("t", Recorder(slow))])
    broker.publish([out("t", "m1")], timeout=1)
    assert entered.wait(DEADLINE)
    leaving = threading.Thread(target=broker.leave, args=(member, DEADLINE))
    leaving.start()
    release.set()
    leaving.join(DEADLINE)
    assert not leaving.is_alive()
    again = Recorder()
    broker.join("g", [Subscription("t", again)])
    broker.drain(DEADLINE)
    assert again.values == []


def test_leaving_hands_partitions_to_the_remaining_member(broker: MemoryBroker) -> None:
    """After one member leaves, the other receives the messages of every partition."""
    first, second = Recorder(), Recorder()
    leaver = broker.join("g", [Subscription("t", first)])
    broker.join("g", [Subscription("t", second)])
    broker.leave(leaver, timeout=1)
    broker.publish([out("t", str(i), key=str(i)) for i in range(20)], timeout=1)
    broker.drain(DEADLINE)
    assert first.values == []
    assert len(second.values) == 20


def test_drain_times_out_naming_the_pending_group(broker: MemoryBroker) -> None:
    """``drain`` fails with a TimeoutError saying which group still has messages."""
    release = threading.Event()
    broker.join("slow-group", [Subscription("t", Recorder(lambda m: ACK if release.wait(DEADLINE) else NACK))])
    broker.publish([out("t", "m")], timeout=1)
    with pytest.raises(TimeoutError, match="slow-group"):
        broker.drain(timeout=0.05)
    release.set()
    broker.drain(DEADLINE)


def test_drain_ignores_topics_nobody_consumes(broker: MemoryBroker) -> None:
    """Messages on a topic no group subscribes to do not hold ``drain`` up."""
    broker.publish([out("nobody", "m")], timeout=1)
    broker.drain(timeout=0)


def test_unavailable_broker_fails_publish_after_the_timeout(broker: MemoryBroker) -> None:
    """Switched off, the broker confirms nothing: publish raises PublishError and stores nothing."""
    broker.available = False
    with pytest.raises(PublishError, match="unavailable"):
        broker.publish([out("t", "m")], timeout=0.02)
    assert broker.messages("t") == []
    broker.available = True
    broker.publish([out("t", "m")], timeout=0.02)
    assert len(broker.messages("t")) == 1


def test_publish_waits_for_the_broker_to_come_back(broker: MemoryBroker) -> None:
    """A publish issued during an outage completes once the broker is switched on within its timeout."""
    broker.available = False
    errors: list[BaseException] = []

    def publish() -> None:
        try:
            broker.publish([out("t", "m")], timeout=DEADLINE)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    publisher = threading.Thread(target=publish)
    publisher.start()
    publisher.join(0.05)
    assert publisher.is_alive(), "publish waits while the broker is off"
    broker.available = True
    publisher.join(DEADLINE)
    assert errors == [] and len(broker.messages("t")) == 1


def test_concurrent_publishers_and_consumers(broker: MemoryBroker) -> None:
    """Many threads publishing at once: every message reaches each group once, each key in order."""
    groups = {name: [Recorder(), Recorder()] for name in ("g1", "g2")}
    for name, recorders in groups.items():
        for r in recorders:
            broker.join(name, [Subscription("t", r)])

    def publish(thread: int) -> None:
        for i in range(100):
            broker.publish([out("t", f"{thread}:{i}", key=f"key-{thread}")], timeout=DEADLINE)

    threads = [threading.Thread(target=publish, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(DEADLINE)
    broker.drain(DEADLINE)
    for recorders in groups.values():
        per_key: dict[str, list[int]] = defaultdict(list)
        for r in recorders:
            for m in r.received:
                thread, index = m.value.decode().split(":")
                per_key[thread].append(int(index))
        assert per_key == {str(n): list(range(100)) for n in range(8)}


def test_shared_broker_is_one_per_process() -> None:
    """``MemoryBroker.shared()`` always returns the same broker."""
    assert MemoryBroker.shared() is MemoryBroker.shared()


def test_plugin_reports_health_and_leaves_on_close(broker: MemoryBroker) -> None:
    """The plugin's health follows the availability switch; close stops its consumers."""
    plugin = MemoryPlugin(BrokerConfig("memory"), broker)
    r = Recorder()
    plugin.spine_subscribe(group_id="g", subscriptions=[Subscription("t", r)])
    assert plugin.spine_broker_health().ready
    broker.available = False
    assert not plugin.spine_broker_health().ready
    broker.available = True
    plugin.spine_broker_close(timeout=1.0)
    broker.publish([out("t", f"after close {i}") for i in range(2 * broker.partitions)], timeout=1)
    successor = Recorder()
    broker.join("g", [Subscription("t", successor)])
    broker.drain(DEADLINE)
    assert r.values == []
    assert len(successor.values) == 2 * broker.partitions


def test_memory_broker_fixture_is_fresh(memory_broker: MemoryBroker) -> None:
    """The pytest plugin's ``memory_broker`` is a new broker, not the process-wide one."""
    assert memory_broker is not MemoryBroker.shared()
    assert memory_broker.messages("order.created") == []


def test_settled_messages_are_released_beyond_the_retention() -> None:
    """Under a steady stream, a partition keeps its newest ``retention`` messages, not every one."""
    broker = MemoryBroker(partitions=2, retention=50)
    member = broker.join("g", [Subscription("t", Recorder())])
    try:
        for batch in range(40):
            broker.publish([out("t", f"{batch}-{i}", key=str(i)) for i in range(100)], timeout=1)
            broker.drain(DEADLINE)
        kept = broker.messages("t")
        assert 0 < len(kept) <= 2 * 50 + 100  # the newest, plus what the last publish added
        assert kept[-1].offset >= 1900  # offsets go on counting
    finally:
        broker.leave(member, timeout=1)


def test_unsettled_messages_are_kept_whatever_the_retention() -> None:
    """A message a group has not settled is never released: it is still delivered later."""
    broker = MemoryBroker(partitions=1, retention=5)
    release = threading.Event()
    slow = Recorder(lambda m: ACK if release.wait(DEADLINE) else NACK)
    member = broker.join("g", [Subscription("t", slow)], workers=1)
    try:
        broker.publish([out("t", str(i), key="k") for i in range(100)], timeout=1)
        assert len(broker.messages("t")) == 100
        release.set()
        broker.drain(DEADLINE)
        assert slow.values == [str(i).encode() for i in range(100)]
        assert len(broker.messages("t")) == 100  # released on the next publish
        broker.publish([out("t", "last", key="k")], timeout=1)
        assert len(broker.messages("t")) == 5
    finally:
        broker.leave(member, timeout=1)


def test_a_topic_nobody_consumes_keeps_its_newest_messages() -> None:
    """Without consumers a topic keeps ``retention`` messages per partition."""
    broker = MemoryBroker(partitions=1, retention=10)
    broker.publish([out("t", str(i)) for i in range(25)], timeout=1)
    assert [m.value for m in broker.messages("t")] == [str(i).encode() for i in range(15, 25)]
