"""The dead-letter conformance suite on Redis Streams (the ``<topic>.dlq`` streams)."""

from __future__ import annotations

import pytest

from spine_core.testing.conformance import BrokerFactory, DeadLetterConformance, Features

from .conftest import RedisScope


class TestRedisDeadLetters(DeadLetterConformance):
    features = Features(key_order_across_members=False, join_timeout=10.0, delivery_timeout=20.0)

    @pytest.fixture
    def make_broker(self, scope: RedisScope) -> BrokerFactory:
        return scope.plugin
