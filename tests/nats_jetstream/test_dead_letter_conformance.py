"""The dead-letter conformance suite on NATS JetStream (the streams of the ``<topic>.dlq`` subjects)."""

from __future__ import annotations

import pytest

from spine_core.testing import BrokerFactory, DeadLetterConformance

from .conftest import FEATURES, NatsScope


class TestNatsDeadLetters(DeadLetterConformance):
    features = FEATURES

    @pytest.fixture
    def make_broker(self, scope: NatsScope) -> BrokerFactory:
        return scope.plugin
