"""Redis going away while the app runs, on a private server of this test's own: publishing
fails clearly, health says not ready, and after a restart that lost every stream and group,
publishing and consuming resume by themselves."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone

import pytest

from spine_core.errors import PublishError
from spine_core.messages import IncomingMessage
from spine_core.testing import wait_until
from spine_core.testing import Features, Harness, Received, Recorder, Sample

from .conftest import PrivateRedis, RedisScope


def test_restart_of_redis_is_survived(
    scope: RedisScope, private_redis: PrivateRedis, caplog: pytest.LogCaptureFixture
) -> None:
    harness = Harness(scope.factory(url=private_redis.url), Features())
    received = Recorder()

    def record(event: Sample, message: IncomingMessage) -> None:
        received.add(Received(event, dict(message.headers), "a"))

    try:
        with caplog.at_level(logging.INFO, logger="spine.redis"):
            consumer, publisher = harness.broker("g"), harness.broker()
            harness.consume(consumer, "g", record)
            at = datetime.now(timezone.utc)
            harness.publish(publisher, [Sample(1, "k", at)])
            received.wait_for(lambda items: len(items) == 1, 10, "the first event")

            private_redis.stop()
            started = time.monotonic()
            with pytest.raises(PublishError, match="Redis did not confirm 1 message"):
                harness.publish(publisher, [Sample(2, "k", at)])
            assert time.monotonic() - started < 2.0
            wait_until(lambda: not consumer.spine_broker_health().ready, 5, "the consumer not ready")
            assert not publisher.spine_broker_health().ready

            private_redis.start()  # empty: no stream, no group
            wait_until(lambda: consumer.spine_broker_health().ready, 15, "the consumer ready again")
            harness.publish(publisher, [Sample(3, "k", at)])
            received.wait_for(lambda items: len(items) == 2, 15, "the event published after the restart")
            assert received.ids() == [1, 3]
        lines = [r.getMessage() for r in caplog.records if r.name == "spine.redis"]
        assert len([line for line in lines if "Redis unreachable" in line]) == 1, lines
        assert len([line for line in lines if "Redis reachable again" in line]) == 1, lines
    finally:
        harness.close_all()
