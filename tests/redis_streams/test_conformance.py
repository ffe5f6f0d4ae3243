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
from attrs import evolve

from spine_core.options import BrokerConfig
from spine_core.testing.conformance import BrokerConformance, BrokerFactory, Features
from spine_redis.plugin import RedisPlugin

from .conftest import PrivateRedis, RedisScope


class RedisOutage:
    """A private ``redis-server`` stopped and started again (a restart that loses every stream)."""

    def __init__(self, scope: RedisScope, server: PrivateRedis) -> None:
        self.scope = scope
        self.server = server

    def make_broker(self, config: BrokerConfig) -> RedisPlugin:
        return self.scope.plugin(evolve(config, settings={"url": self.server.url}))

    def down(self) -> None:
        self.server.stop()

    def up(self) -> None:
        self.server.start()


class TestRedisConformance(BrokerConformance):
    features = Features(key_order_across_members=False, join_timeout=10.0, delivery_timeout=20.0)

    @pytest.fixture
    def make_broker(self, scope: RedisScope) -> BrokerFactory:
        return scope.plugin

    @pytest.fixture
    def make_unreachable_broker(self, scope: RedisScope) -> BrokerFactory:
        def make(config: BrokerConfig) -> RedisPlugin:
            return scope.plugin(evolve(config, settings={"url": "redis://127.0.0.1:9/0"}))

        return make

    @pytest.fixture
    def broker_outage(self, scope: RedisScope, private_redis: PrivateRedis) -> RedisOutage:
        return RedisOutage(scope, private_redis)
