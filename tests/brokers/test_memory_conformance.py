"""The broker conformance suite on the memory broker."""

from __future__ import annotations

import pytest

from spine_core.options import BrokerConfig
from spine_core.testing.conformance import BrokerConformance, BrokerFactory
from spine_memory import MemoryBroker, MemoryPlugin


class TestMemoryConformance(BrokerConformance):
    @pytest.fixture
    def make_broker(self) -> BrokerFactory:
        broker = MemoryBroker()
        return lambda config: MemoryPlugin(config, broker)

    @pytest.fixture
    def make_unreachable_broker(self) -> BrokerFactory:
        broker = MemoryBroker()
        broker.available = False

        def make(config: BrokerConfig) -> MemoryPlugin:
            return MemoryPlugin(config, broker)

        return make
