"""The dead-letter conformance suite on RabbitMQ (the ``<topic>.dlq`` queues)."""

from __future__ import annotations

import pytest

from spine_core.testing import BrokerFactory, DeadLetterConformance

from .conftest import FEATURES, RabbitScope


class TestRabbitMQDeadLetters(DeadLetterConformance):
    features = FEATURES

    @pytest.fixture
    def make_broker(self, rabbit: RabbitScope) -> BrokerFactory:
        return rabbit.plugin
