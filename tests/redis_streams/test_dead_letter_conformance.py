"""The dead-letter conformance suite on Redis Streams (the ``<topic>.dlq`` streams)."""

from __future__ import annotations

import pytest

from spine_core.testing import BrokerFactory, DeadLetterConformance

from .conftest import FEATURES, RedisScope


class TestRedisDeadLetters(DeadLetterConformance):
    features = FEATURES

    @pytest.fixture
    def make_broker(self, scope: RedisScope) -> BrokerFactory:
        return scope.plugin
