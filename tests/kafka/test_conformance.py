"""The broker conformance suite on Kafka (Tansu, or the cluster of SPINE_TEST_KAFKA_BOOTSTRAP_SERVERS)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from attrs import evolve

from spine_core.options import BrokerConfig
from spine_core.testing import BrokerConformance, BrokerFactory
from spine_kafka import KafkaPlugin
from spine_kafka.tansu import free_port

from .outage import TansuOutage


class TestKafkaConformance(BrokerConformance):
    @pytest.fixture
    def make_broker(self, kafka_settings: dict[str, str]) -> BrokerFactory:
        return lambda config: KafkaPlugin(evolve(config, settings=kafka_settings))

    @pytest.fixture
    def make_unreachable_broker(self) -> BrokerFactory:
        nobody = {"bootstrap.servers": f"127.0.0.1:{free_port()}"}

        def make(config: BrokerConfig) -> KafkaPlugin:
            return KafkaPlugin(evolve(config, settings=nobody))

        return make

    @pytest.fixture
    def broker_outage(self, kafka_bootstrap_servers: str) -> Iterator[TansuOutage]:
        outage = TansuOutage()
        yield outage
        outage.down()
