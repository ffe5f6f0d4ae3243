"""Fixtures of the RabbitMQ tests: the real server (``SPINE_TEST_RABBITMQ_URL``, default
127.0.0.1:5672), names unique to each test, and everything declared with them deleted after it.

Without a server the tests are skipped with the reason; on CI (``CI=true``) they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pika
import pytest
from attrs import evolve

from spine_core import Options, Service, Spine
from spine_core.options import BrokerConfig
from spine_rabbitmq.config import DEFAULT_URL, queue_name
from spine_rabbitmq.plugin import RabbitMQPlugin

from .proxy import Proxy

RABBITMQ_URL = os.environ.get("SPINE_TEST_RABBITMQ_URL", DEFAULT_URL)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.rabbitmq)


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    """The server's URL, once it answered; skip (fail on CI) when it does not."""
    params = pika.URLParameters(RABBITMQ_URL)
    params.connection_attempts, params.socket_timeout = 1, 3
    try:
        pika.BlockingConnection(params).close()
    except pika.exceptions.AMQPError as e:
        message = (f"RabbitMQ is not reachable at {RABBITMQ_URL} ({e!r}); start it with "
                   "`rabbitmq-server -detached` or set SPINE_TEST_RABBITMQ_URL")
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return RABBITMQ_URL


class RabbitScope:
    """One test's exchange, topic prefix and group id, the plugins and services it started,
    and the queues to delete afterwards."""

    def __init__(self, url: str) -> None:
        run = uuid.uuid4().hex[:8]
        self.url = url
        self.exchange = f"spine-test-{run}"
        self.prefix = f"t{run}."
        self.group = f"g{run}"
        self.queues: set[str] = set()
        self.plugins: list[RabbitMQPlugin] = []
        self.services: list[Service] = []

    def settings(self, **extra: str) -> dict[str, str]:
        return {"url": self.url, "exchange": self.exchange, **extra}

    def env(self, **extra: str) -> dict[str, str]:
        """``SPINE_*`` variables that put an unchanged app on this scope's names."""
        return {
            "SPINE_BROKER": "rabbitmq", "SPINE_RABBITMQ_URL": self.url, "SPINE_RABBITMQ_EXCHANGE": self.exchange,
            "SPINE_RABBITMQ_TOPIC_PREFIX": self.prefix, "SPINE_RABBITMQ_GROUP_ID": self.group,
            "SPINE_ADDRESS": "127.0.0.1:0", **extra,
        }

    def topic_queues(self, topic: str, group: str | None = None) -> tuple[str, str]:
        """The group's queue and the dead-letter queue of ``topic`` (unprefixed); deleted after the test."""
        full = self.prefix + topic
        names = (queue_name(group or self.group, full), full + ".dlq")
        self.queues.update(names)
        return names

    def plugin(self, config: BrokerConfig) -> RabbitMQPlugin:
        """A plugin on this scope's server and exchange (settings of ``config`` win)."""
        plugin = RabbitMQPlugin(evolve(config, settings={**self.settings(), **config.settings}))
        self.plugins.append(plugin)
        return plugin

    def options(self, options: Options, **settings: str) -> Options:
        """``options`` moved onto RabbitMQ and this scope's names, HTTP on a free port."""
        broker = options.broker
        read = evolve(broker.read, group_id=self.group) if broker.read is not None else None
        broker = evolve(broker, name="rabbitmq", topic_prefix=self.prefix, read=read,
                        settings={"rabbitmq": self.settings(**settings)})
        return evolve(options, address="127.0.0.1:0", broker=broker)

    def start(self, app: Spine, options: Options, **settings: str) -> Service:
        """Start ``app`` in this process on this scope; stopped after the test."""
        service = Service(app.runtime(self.options(options, **settings)))
        self.services.append(service)
        assert isinstance(service.runtime.broker, RabbitMQPlugin)
        self.plugins.append(service.runtime.broker)
        return service.start()

    def stop(self, service: Service, timeout: float) -> None:
        """Stop a service before the end of the test (e.g. ``timeout=0``: as if it died mid-message)."""
        self.services.remove(service)
        service.stop(timeout=timeout)

    def channel(self) -> Any:
        """A blocking channel for looking at the server (the caller closes its connection)."""
        return pika.BlockingConnection(pika.URLParameters(self.url)).channel()

    def cleanup(self) -> None:
        for service in reversed(self.services):
            service.stop(timeout=5.0)
        for plugin in self.plugins:
            if plugin.consumer is not None:
                self.queues.update(plugin.consumer.queues)
            plugin.spine_broker_close(timeout=1.0)
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
    scope = RabbitScope(rabbitmq_url)
    yield scope
    scope.cleanup()


@pytest.fixture
def proxy(rabbitmq_url: str) -> Iterator[Proxy]:
    """A TCP proxy to the server that the test can cut and restore (an outage of its own)."""
    params = pika.URLParameters(rabbitmq_url)
    p = Proxy((params.host, params.port))
    yield p
    p.cut()
