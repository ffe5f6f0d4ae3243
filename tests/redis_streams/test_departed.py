"""Members that crashed do not stay in the group: the live members remove them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone

import pytest
import redis
from attrs import evolve

from spine_core.messages import IncomingMessage
from spine_core.options import BrokerConfig
from spine_core.testing import Features, Harness, Received, Recorder, Sample
from spine_redis.plugin import RedisPlugin

from .conftest import RedisScope


def wait_until(condition: Callable[[], bool], timeout: float, what: Callable[[], str]) -> None:
    """Poll ``condition`` every 50 ms; fail after ``timeout`` seconds, saying ``what()``."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what()}"
        time.sleep(0.05)


@pytest.fixture
def client(scope: RedisScope) -> Iterator[redis.Redis]:
    c = redis.Redis.from_url(scope.url)
    yield c
    c.close()


def test_crashed_members_are_removed_once_their_entries_are_claimed(scope: RedisScope, client: redis.Redis) -> None:
    """Two crashed members (one holding an entry, one holding none) leave the group once silent for claim.idle;
    the held entry reaches the live member, which stays."""
    def plugin(config: BrokerConfig) -> RedisPlugin:
        made: RedisPlugin = scope.plugin(evolve(config, settings={**config.settings, "claim.idle": "1"}))
        return made

    harness = Harness(plugin, Features())
    scope.prefixes.add(harness.prefix)
    group = harness.prefix + "stock"
    try:
        client.xgroup_create(harness.topic, group, id="0", mkstream=True)
        harness.publish(harness.broker(), [Sample(1, "k", datetime.now(timezone.utc))])
        assert client.xreadgroup(group, "crashed-holding", {harness.topic: ">"}, count=1)
        client.xgroup_createconsumer(harness.topic, group, "crashed-empty")
        received = Recorder()

        def record(event: Sample, message: IncomingMessage) -> None:
            received.add(Received(event, dict(message.headers), "live"))

        harness.consume(harness.broker(), "stock", record)
        received.wait_for(lambda items: len(items) == 1, 15, "the crashed member's entry")

        def members() -> list[str]:
            return [m["name"].decode() for m in client.xinfo_consumers(harness.topic, group)]

        wait_until(lambda: len(members()) == 1, 15, lambda: f"the crashed members removed: {members()}")
        assert not {"crashed-holding", "crashed-empty"} & set(members())
        assert received.ids() == [1]
    finally:
        harness.close_all()
