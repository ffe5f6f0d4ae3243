"""The dead-letter conformance suite on Kafka."""

from __future__ import annotations

import pytest
from attrs import evolve

from spine_core.testing import BrokerFactory, DeadLetterConformance
from spine_kafka import KafkaPlugin


class TestKafkaDeadLetters(DeadLetterConformance):
    @pytest.fixture
    def make_broker(self, kafka_settings: dict[str, str]) -> BrokerFactory:
        return lambda config: KafkaPlugin(evolve(config, settings=kafka_settings))
