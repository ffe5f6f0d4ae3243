"""The dead-letter conformance suite on RabbitMQ (the ``<topic>.dlq`` queues)."""

from __future__ import annotations

import pytest

from spine_core.testing.conformance import BrokerFactory, DeadLetterConformance, Features

from .conftest import RabbitScope


class TestRabbitMQDeadLetters(DeadLetterConformance):
    features = Features(key_order_across_members=False, join_timeout=15.0, delivery_timeout=20.0)

    @pytest.fixture
    def make_broker(self, rabbit: RabbitScope) -> BrokerFactory:
        return rabbit.plugin
