"""The dead-letter conformance suite: ``spine_dlq_list`` and ``spine_dlq_replay``, checked on a broker.

Subclass :class:`DeadLetterConformance` as ``Test...`` with a ``make_broker``
fixture, as for :class:`~.broker_suite.BrokerConformance` (and the same ``features``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from ..codecs.base import Codec
from ..messages import Headers, IncomingMessage
from ..plugins import BrokerFactory
from .harness import CODECS, Features, Harness, Received, Recorder, Sample, codec_id, samples


class Failing:
    """A handler that fails for the event ids in ``failing`` and records the others."""

    def __init__(self, failing: set[int]) -> None:
        self.failing = failing
        self.handled = Recorder()

    def handle(self, event: Sample, message: IncomingMessage) -> None:
        if event.id in self.failing:
            raise ValueError(f"event {event.id} refused")
        self.handled.add(Received(event, dict(message.headers), "a"))


def wait_listed(hook: Any, topic: str, count: int, timeout: float) -> list[Any]:
    """``spine_dlq_list`` of ``topic`` once it lists ``count`` dead letters (polled until ``timeout``)."""
    deadline = time.monotonic() + timeout
    while len(listed := list(hook.spine_dlq_list(topic=topic, timeout=10.0))) != count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{topic} lists {len(listed)} dead letter(s) after {timeout}s, not {count}")
        time.sleep(0.1)
    return listed


class DeadLetterConformance:
    """The dead-letter hooks: subclass as ``Test...`` with a ``make_broker`` fixture, as for
    :class:`BrokerConformance` (and the same ``features``)."""

    features: ClassVar[Features] = Features()

    @pytest.fixture
    def make_broker(self) -> BrokerFactory:
        raise NotImplementedError("provide a make_broker fixture: BrokerConfig -> plugin object")

    @pytest.fixture
    def harness(self, make_broker: BrokerFactory) -> Iterator[Harness]:
        h = Harness(make_broker, self.features)
        yield h
        h.close_all()

    def _dead_letters(self, harness: Harness, failing: set[int], count: int) -> tuple[Any, Failing, list[Any]]:
        """Consume with a handler failing ``failing`` (one attempt), publish ``count`` events and
        wait until the failing ones are listed; the inspecting broker, the handler, the listing."""
        handler = Failing(failing)
        harness.consume(harness.broker("svc"), "svc", handler.handle, attempts=1)
        # One key: handled, and so dead-lettered, one at a time (Tansu loses one of two messages
        # produced at once to one partition by one producer; that is not what these tests check).
        harness.publish(harness.broker(), samples(count, keys=1))
        handler.handled.wait_for(lambda items: len(items) >= count - len(failing),
                                 self.features.delivery_timeout, "the handled events")
        inspector = harness.broker()
        listed = wait_listed(inspector, harness.topic + ".dlq", len(failing), self.features.delivery_timeout)
        return inspector, handler, listed

    @pytest.mark.parametrize("codec", CODECS, ids=codec_id)
    def test_dead_letters_listed_with_their_reason_and_listing_changes_nothing(
        self, harness: Harness, codec: Codec
    ) -> None:
        """Dead letters are listed with their reason and their payload in its codec; listing again changes nothing."""
        harness.codec = codec
        inspector, _, listed = self._dead_letters(harness, {1, 3}, 5)
        dlq = harness.topic + ".dlq"
        decode = codec.decoder(Sample)
        events = sorted((decode(d.value) for d in listed), key=lambda e: e.id)
        assert [e.id for e in events] == [1, 3]
        for letter in listed:
            assert letter.topic == dlq
            assert letter.key == letter.headers[Headers.KEY]
            assert letter.event_id and letter.headers[Headers.EVENT_NAME] == "sample.happened"
            assert letter.headers[Headers.ERROR_TYPE] == "ValueError"
            assert letter.headers[Headers.CONTENT_TYPE] == codec.content_type
            assert letter.headers[Headers.ATTEMPTS] == "1"
            assert letter.headers[Headers.ORIGINAL_TOPIC] == harness.topic
            assert letter.headers[Headers.DEAD_LETTERED_AT]
            assert letter.position
        again = inspector.spine_dlq_list(topic=dlq, timeout=10.0)
        assert [(d.event_id, d.value) for d in again] == [(d.event_id, d.value) for d in listed], again

    def test_a_topic_without_dead_letters_lists_none(self, harness: Harness) -> None:
        assert list(harness.broker().spine_dlq_list(topic=harness.prefix + "nothing.dlq", timeout=10.0)) == []

    @pytest.mark.parametrize("codec", CODECS, ids=codec_id)
    def test_replay_by_event_id_publishes_it_back_without_the_reason(self, harness: Harness, codec: Codec) -> None:
        """A replayed dead letter, in its codec, is handled again without the dead-letter headers."""
        harness.codec = codec
        inspector, handler, listed = self._dead_letters(harness, {1, 3}, 5)
        dlq = harness.topic + ".dlq"
        by_id = {codec.loads(d.value)["id"]: d for d in listed}
        handler.failing.clear()  # the consumer is fixed
        replayed = inspector.spine_dlq_replay(topic=dlq, event_ids=[by_id[3].event_id], timeout=10.0)
        assert [d.event_id for d in replayed] == [by_id[3].event_id], f"replayed {replayed}"
        handler.handled.wait_for(lambda items: 3 in [r.event.id for r in items],
                                 self.features.delivery_timeout, "the replayed event")
        again = [r for r in handler.handled.items if r.event.id == 3][0]
        assert again.headers[Headers.EVENT_ID] == by_id[3].event_id
        assert again.headers[Headers.CORRELATION_ID] == "corr-1"
        assert not [h for h in again.headers if h.startswith(Headers.DEAD_LETTER_PREFIX)], again.headers
        left = wait_listed(inspector, dlq, 1, self.features.delivery_timeout)
        assert [d.event_id for d in left] == [by_id[1].event_id], f"left {left}"

    def test_replay_all_empties_the_listing(self, harness: Harness) -> None:
        inspector, handler, listed = self._dead_letters(harness, {0, 2}, 4)
        dlq = harness.topic + ".dlq"
        handler.failing.clear()
        replayed = inspector.spine_dlq_replay(topic=dlq, event_ids=None, timeout=10.0)
        assert sorted(d.event_id for d in replayed) == sorted(d.event_id for d in listed), f"replayed {replayed}"
        handler.handled.wait_for(lambda items: len(items) >= 4, self.features.delivery_timeout, "every event")
        assert sorted(handler.handled.ids()) == [0, 1, 2, 3]
        assert list(inspector.spine_dlq_list(topic=dlq, timeout=10.0)) == []

    def test_an_unknown_event_id_replays_nothing(self, harness: Harness) -> None:
        inspector, _, listed = self._dead_letters(harness, {1}, 2)
        dlq = harness.topic + ".dlq"
        assert list(inspector.spine_dlq_replay(topic=dlq, event_ids=["no-such-id"], timeout=10.0)) == []
        assert [d.event_id for d in inspector.spine_dlq_list(topic=dlq, timeout=10.0)] == [listed[0].event_id]

    def test_a_replayed_message_that_fails_again_is_listed_again(self, harness: Harness) -> None:
        inspector, handler, listed = self._dead_letters(harness, {1}, 2)
        dlq = harness.topic + ".dlq"
        inspector.spine_dlq_replay(topic=dlq, event_ids=None, timeout=10.0)  # still failing
        deadline = time.monotonic() + self.features.delivery_timeout
        while [d.headers[Headers.DEAD_LETTERED_AT] for d in inspector.spine_dlq_list(topic=dlq, timeout=10.0)] in (
            [], [listed[0].headers[Headers.DEAD_LETTERED_AT]]
        ):
            assert time.monotonic() < deadline, "the replayed message was not dead-lettered again"
            time.sleep(0.1)
        again = inspector.spine_dlq_list(topic=dlq, timeout=10.0)
        assert [d.event_id for d in again] == [listed[0].event_id]
