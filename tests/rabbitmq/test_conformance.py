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

from spine_core.testing import OutageSwitch
from spine_core.testing import BrokerConformance, BrokerFactory

from .conftest import FEATURES, RabbitScope
from .proxy import Proxy


class TestRabbitMQConformance(BrokerConformance):
    features = FEATURES

    @pytest.fixture
    def make_broker(self, rabbit: RabbitScope) -> BrokerFactory:
        return rabbit.plugin

    @pytest.fixture
    def make_unreachable_broker(self, rabbit: RabbitScope) -> BrokerFactory:
        return rabbit.factory(url="amqp://guest:guest@127.0.0.1:9/")

    @pytest.fixture
    def broker_outage(self, rabbit: RabbitScope, proxy: Proxy) -> OutageSwitch:
        """RabbitMQ behind a TCP proxy the test cuts and restores (the shared server keeps running)."""
        return OutageSwitch(rabbit.factory(url=proxy.url()), proxy.cut, proxy.restore)
