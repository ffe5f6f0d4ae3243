"""Fixtures of the RabbitMQ tests: the real server (``SPINE_TEST_RABBITMQ_URL``, default
127.0.0.1:5672), names unique to each test, and everything declared with them deleted after it.

Without a server the tests are skipped with the reason; on CI (``CI=true``) they fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pika
import pytest

from spine_core.testing import BrokerScope, mark_tests_in, unavailable
from spine_core.testing import Features
from spine_rabbitmq.config import DEFAULT_URL, queue_name
from spine_rabbitmq.plugin import RabbitMQPlugin

from .proxy import Proxy

RABBITMQ_URL = os.environ.get("SPINE_TEST_RABBITMQ_URL", DEFAULT_URL)
FEATURES = Features(key_order_across_members=False, join_timeout=15.0, delivery_timeout=20.0)
"""Where RabbitMQ's rules differ from Kafka's (see test_conformance.py), for both suites."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_tests_in(__file__, pytest.mark.rabbitmq, items)


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    """The server's URL, once it answered; skip (fail on CI) when it does not."""
    params = pika.URLParameters(RABBITMQ_URL)
    params.connection_attempts, params.socket_timeout = 1, 3
    try:
        pika.BlockingConnection(params).close()
    except pika.exceptions.AMQPError as e:
        unavailable(f"RabbitMQ is not reachable at {RABBITMQ_URL} ({e!r}); start it with "
                    "`rabbitmq-server -detached` or set SPINE_TEST_RABBITMQ_URL")
    return RABBITMQ_URL


class RabbitScope(BrokerScope):
    """One test's exchange, topic prefix and group id on the server, and the queues to delete afterwards."""

    def __init__(self, url: str) -> None:
        super().__init__("rabbitmq", RabbitMQPlugin, {"url": url})
        self.url = url
        self.exchange = self.settings["exchange"] = f"spine-test-{self.group[1:]}"
        self.queues: set[str] = set()

    def topic_queues(self, topic: str, group: str | None = None) -> tuple[str, str]:
        """The group's queue and the dead-letter queue of ``topic`` (unprefixed); deleted after the test."""
        full = self.prefix + topic
        names = (queue_name(group or self.group, full), full + ".dlq")
        self.queues.update(names)
        return names

    def channel(self) -> Any:
        """A blocking channel for looking at the server (the caller closes its connection)."""
        return pika.BlockingConnection(pika.URLParameters(self.url)).channel()

    def close(self) -> None:
        for plugin in self.plugins:
            if plugin.consumer is not None:
                self.queues.update(plugin.consumer.queues)
        super().close()
        channel = self.channel()
        try:
            for name in sorted(self.queues | {self.exchange + ".unrouted"}):
                channel.queue_delete(name)
            channel.exchange_delete(self.exchange)
            channel.exchange_delete(self.exchange + ".unrouted")
        finally:
            channel.connection.close()


@pytest.fixture
def rabbit(rabbitmq_url: str) -> Iterator[RabbitScope]:
    """Names of this test's own on the real server; its queues and exchange are deleted after."""
    with RabbitScope(rabbitmq_url) as scope:
        yield scope


@pytest.fixture
def proxy(rabbitmq_url: str) -> Iterator[Proxy]:
    """A TCP proxy to the server that the test can cut and restore (an outage of its own)."""
    params = pika.URLParameters(rabbitmq_url)
    p = Proxy((params.host, params.port))
    yield p
    p.cut()
