"""The broker conformance suite on Redis Streams.

Where Redis's rule differs from Kafka's:

- Per-key order holds for one member of a group only. A group's members compete for the
  entries of one stream, so two members may handle two events of one key at the same time
  (``key_order_across_members=False``; the suite then checks order with one member).
- Settlement is per entry (``XACK``), not an offset: a later entry may be acknowledged
  while an earlier one is still being retried; the unsettled one alone is redelivered.
"""

from __future__ import annotations

import pytest

from spine_core.testing import OutageSwitch
from spine_core.testing import BrokerConformance, BrokerFactory

from .conftest import FEATURES, PrivateRedis, RedisScope


class TestRedisConformance(BrokerConformance):
    features = FEATURES

    @pytest.fixture
    def make_broker(self, scope: RedisScope) -> BrokerFactory:
        return scope.plugin

    @pytest.fixture
    def make_unreachable_broker(self, scope: RedisScope) -> BrokerFactory:
        return scope.factory(url="redis://127.0.0.1:9/0")

    @pytest.fixture
    def broker_outage(self, scope: RedisScope, private_redis: PrivateRedis) -> OutageSwitch:
        """A private ``redis-server`` stopped and started again (a restart that loses every stream)."""
        return OutageSwitch(scope.factory(url=private_redis.url), private_redis.stop, private_redis.start)
