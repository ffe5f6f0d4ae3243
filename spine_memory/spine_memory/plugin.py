"""The ``memory`` broker plugin: Spine's hooks over a :class:`MemoryBroker`."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from spine_core.broker import (
    BrokerConfig, Health, OutgoingMessage, PublishError, StoredDeadLetter, Subscription, hookimpl,
)

from . import dlq
from .broker import REDELIVERY_DELAY, Member, MemoryBroker


class MemoryPlugin:
    """One app's connection to a memory broker (by default the process-wide one)."""

    def __init__(self, config: BrokerConfig, broker: MemoryBroker | None = None) -> None:
        self.config = config
        self.broker = broker or MemoryBroker.shared()
        self._members: list[Member] = []
        self._closed = False

    @hookimpl
    def spine_broker_health(self) -> Health:
        if not self.broker.available:
            return Health(False, "memory broker switched off")
        return Health(True, f"memory broker, {len(self._members)} consumer(s)")

    @hookimpl
    def spine_broker_close(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        self._closed = True
        members, self._members = self._members, []
        for member in members:
            self.broker.leave(member, max(0.0, deadline - time.monotonic()))

    @hookimpl
    def spine_publish(self, messages: Sequence[OutgoingMessage], timeout: float) -> None:
        if self._closed:
            raise PublishError("the memory broker plugin is closed")
        self.broker.publish(messages, timeout)

    @hookimpl
    def spine_consumer_lag(self) -> Mapping[tuple[str, int], int] | None:
        if not self._members:
            return None
        return self.broker.lag(self._members)

    @hookimpl
    def spine_subscribe(self, group_id: str, subscriptions: Sequence[Subscription]) -> None:
        read = self.config.read
        delay = read.redelivery_delay if read is not None else REDELIVERY_DELAY
        self._members.append(self.broker.join(group_id, subscriptions, redelivery_delay=delay))

    @hookimpl
    def spine_dlq_list(self, topic: str, timeout: float) -> Sequence[StoredDeadLetter]:
        return dlq.list_waiting(self.broker, topic)

    @hookimpl
    def spine_dlq_replay(
        self, topic: str, event_ids: Sequence[str] | None, timeout: float
    ) -> Sequence[StoredDeadLetter]:
        return dlq.replay(self.broker, topic, event_ids, timeout)
