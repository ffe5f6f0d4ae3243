"""NATS going away while the app runs, on a private ``nats-server -js`` of this test's own: publishing
fails clearly, health says not ready, one line says the server went and one that it is back, and
after the restart publishing and consuming resume by themselves."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone

import pytest

from spine_core.errors import PublishError
from spine_core.messages import IncomingMessage
from spine_core.testing import Features, Harness, Received, Recorder, Sample, logged, wait_until

from .conftest import NatsScope, PrivateNats


def test_restart_of_nats_is_survived(
    scope: NatsScope, private_nats: PrivateNats, caplog: pytest.LogCaptureFixture
) -> None:
    """Stop the server mid-run, then start it again on the same port and store: every step as promised."""
    harness = Harness(scope.factory(url=private_nats.url), Features())
    received = Recorder()

    def record(event: Sample, message: IncomingMessage) -> None:
        received.add(Received(event, dict(message.headers), "a"))

    try:
        with caplog.at_level(logging.INFO, logger="spine.nats"):
            consumer, publisher = harness.broker("g"), harness.broker()
            harness.consume(consumer, "g", record)
            at = datetime.now(timezone.utc)
            harness.publish(publisher, [Sample(1, "k", at)])
            received.wait_for(lambda items: len(items) == 1, 10, "the first event")

            private_nats.stop()
            wait_until(lambda: not publisher.spine_broker_health().ready, 5, "the publisher not ready")
            started = time.monotonic()
            with pytest.raises(PublishError, match=rf"NATS at 127.0.0.1:{private_nats.port} is unreachable"):
                harness.publish(publisher, [Sample(2, "k", at)])
            assert time.monotonic() - started < 2.0
            wait_until(lambda: not consumer.spine_broker_health().ready, 5, "the consumer not ready")
            assert "NATS unreachable at" in consumer.spine_broker_health().detail

            private_nats.start()
            wait_until(lambda: consumer.spine_broker_health().ready, 15, "the consumer ready again")
            wait_until(lambda: publisher.spine_broker_health().ready, 15, "the publisher ready again")
            harness.publish(publisher, [Sample(3, "k", at)])
            received.wait_for(lambda items: 3 in [r.event.id for r in items], 15, "the event published after")
            assert received.ids() == [1, 3]
        assert logged(caplog, f"connection to NATS 127.0.0.1:{private_nats.port} lost") == 2  # each plugin's own
        assert logged(caplog, f"NATS 127.0.0.1:{private_nats.port} reachable again") == 2
        assert logged(caplog, "still unreachable") == 0
        assert not [r for r in caplog.records if r.name == "spine.nats" and "lost" not in r.getMessage()
                    and "reachable again" not in r.getMessage() and "consuming" not in r.getMessage()]
    finally:
        harness.close_all()


def test_a_consumer_started_while_nats_is_away_starts_consuming_when_it_comes(
    scope: NatsScope, private_nats: PrivateNats
) -> None:
    """A service may start before its broker: it is not ready, then consumes once the server is there."""
    private_nats.stop()
    harness = Harness(scope.factory(url=private_nats.url), Features(join_timeout=3.0))
    received = Recorder()

    def record(event: Sample, message: IncomingMessage) -> None:
        received.add(Received(event, dict(message.headers), "a"))

    try:
        consumer = harness.broker("late")
        with pytest.raises(AssertionError, match="timed out"):
            harness.consume(consumer, "late", record)  # waits for readiness, which cannot come yet
        private_nats.start()
        harness.wait_ready(consumer, 15)
        harness.publish(harness.broker(), [Sample(7, "k", datetime.now(timezone.utc))])
        received.wait_for(lambda items: len(items) == 1, 15, "the event")
    finally:
        harness.close_all()
