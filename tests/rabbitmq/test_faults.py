"""Broker faults on RabbitMQ: an outage through a cut proxy, and the log while it lasts."""

from __future__ import annotations

import logging
import time

import pytest

from spine_core.errors import PublishError
from spine_core.messages import OutgoingMessage, Subscription
from spine_core.options import BrokerConfig, ReadOptions, WriteOptions
from spine_core.testing import Deliveries, logged, publishes, wait_until
from spine_core.toolkit import outage as outage_module

from .conftest import RabbitScope
from .proxy import Proxy


def test_outage_recovers_by_itself_and_logs_once(
    rabbit: RabbitScope, proxy: Proxy, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RabbitMQ unreachable (the proxy cut): publishing fails within its timeout and readiness is
    false; once it is back, both connections reopen, publishing and consuming resume. Each
    connection logs one line when it goes, a reminder per interval, and one line when it is back."""
    monkeypatch.setattr(outage_module, "REMIND_EVERY", 2.0)
    topic = rabbit.prefix + "faults"
    config = BrokerConfig(name="rabbitmq", write=WriteOptions(), read=ReadOptions(group_id=rabbit.group),
                          settings={"url": proxy.url()})
    plugin = rabbit.plugin(config)
    plugin.spine_broker_start()
    received = Deliveries()
    plugin.spine_subscribe(group_id=rabbit.group, subscriptions=[Subscription(topic, received)])
    wait_until(lambda: plugin.spine_broker_health().ready, 15, "the consumer")
    plugin.spine_publish([OutgoingMessage(topic, b"before", "k")], timeout=10)
    wait_until(lambda: b"before" in received.values, 15, "the first message")

    caplog.clear()
    caplog.set_level(logging.INFO)
    proxy.cut()
    started = time.monotonic()
    with pytest.raises(PublishError):
        plugin.spine_publish([OutgoingMessage(topic, b"lost", "k")], timeout=2)
    assert time.monotonic() - started < 3
    wait_until(lambda: not plugin.spine_broker_health().ready, 5, "not ready while away")
    wait_until(lambda: logged(caplog, "RabbitMQ still unreachable") >= 4, 15, "two reminders per connection")
    away = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]

    proxy.restore()
    back = time.monotonic()
    wait_until(lambda: publishes(plugin, topic), 30, "publishing again")
    assert time.monotonic() - back < 30
    wait_until(lambda: plugin.spine_broker_health().ready, 30, "ready again")
    wait_until(lambda: b"after" in received.values, 30, "a message published after the outage")

    assert logged(caplog, "connection to RabbitMQ lost") == 2  # the publisher's and the consumer's
    assert 4 <= logged(caplog, "RabbitMQ still unreachable") <= 12
    assert logged(caplog, "RabbitMQ reachable again") == 2
    assert len(away) <= 20, away
