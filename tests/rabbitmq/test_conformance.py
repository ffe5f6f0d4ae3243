"""The broker conformance suite on RabbitMQ.

Where RabbitMQ's rule differs from Kafka's:

- Per-key order holds for one member of a group only. A group is one queue with
  competing consumers, so two members may handle two events of one key at the
  same time (``key_order_across_members=False``; the suite then checks order with
  one member). Kafka keeps a key on one partition owned by one member.
- Settlement is per message, not an offset: a later message may be acked while an
  earlier one is still being retried; the unsettled one alone is redelivered.
"""

from __future__ import annotations

import pytest
from attrs import evolve

from spine_core.options import BrokerConfig
from spine_core.testing.conformance import BrokerConformance, BrokerFactory, Features
from spine_rabbitmq.plugin import RabbitMQPlugin

from .conftest import RabbitScope
from .proxy import Proxy


class ProxyOutage:
    """RabbitMQ behind a TCP proxy the test cuts and restores (the shared server keeps running)."""

    def __init__(self, rabbit: RabbitScope, proxy: Proxy) -> None:
        self.rabbit = rabbit
        self.proxy = proxy

    def make_broker(self, config: BrokerConfig) -> RabbitMQPlugin:
        return self.rabbit.plugin(evolve(config, settings={"url": self.proxy.url()}))

    def down(self) -> None:
        self.proxy.cut()

    def up(self) -> None:
        if not self.proxy.listening:
            self.proxy.restore()


class TestRabbitMQConformance(BrokerConformance):
    features = Features(key_order_across_members=False, join_timeout=15.0, delivery_timeout=20.0)

    @pytest.fixture
    def make_broker(self, rabbit: RabbitScope) -> BrokerFactory:
        return rabbit.plugin

    @pytest.fixture
    def make_unreachable_broker(self, rabbit: RabbitScope) -> BrokerFactory:
        def make(config: BrokerConfig) -> RabbitMQPlugin:
            return rabbit.plugin(evolve(config, settings={"url": "amqp://guest:guest@127.0.0.1:9/"}))

        return make

    @pytest.fixture
    def broker_outage(self, rabbit: RabbitScope, proxy: Proxy) -> ProxyOutage:
        return ProxyOutage(rabbit, proxy)
