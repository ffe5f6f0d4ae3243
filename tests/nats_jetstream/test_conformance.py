"""The broker conformance suite on NATS JetStream.

Where NATS's rule differs from Kafka's:

- Per-key order holds for one member of a group only. A group's members share one durable pull
  consumer, whose messages go to whichever member fetches first, so two members may handle two
  events of one key at the same time (``key_order_across_members=False``; the suite then checks
  order with one member). A stream has no partitions to give each key one owner.
- Settlement is per message (``ack``), not an offset: a later message may be acknowledged while
  an earlier one is still being retried; the unsettled one alone is redelivered.
"""

from __future__ import annotations

import pytest

from spine_core.testing import BrokerConformance, BrokerFactory, OutageSwitch

from .conftest import FEATURES, NatsScope, PrivateNats


class TestNatsConformance(BrokerConformance):
    features = FEATURES

    @pytest.fixture
    def make_broker(self, scope: NatsScope) -> BrokerFactory:
        return scope.plugin

    @pytest.fixture
    def make_unreachable_broker(self, scope: NatsScope) -> BrokerFactory:
        return scope.factory(url="nats://127.0.0.1:9")

    @pytest.fixture
    def broker_outage(self, scope: NatsScope, private_nats: PrivateNats) -> OutageSwitch:
        """A private ``nats-server -js`` stopped and started again (its streams kept on disk)."""
        return OutageSwitch(scope.factory(url=private_nats.url), private_nats.stop, private_nats.start)
