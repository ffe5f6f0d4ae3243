"""The broker conformance suite on the memory broker."""

from __future__ import annotations

import pytest

from spine_core.options import BrokerConfig
from spine_core.testing import BrokerConformance, BrokerFactory, Features
from spine_memory import MemoryBroker, MemoryPlugin


class MemoryOutage:
    """A memory broker switched off and on (``available``): publishes wait, then fail."""

    def __init__(self) -> None:
        self.broker = MemoryBroker()

    def make_broker(self, config: BrokerConfig) -> MemoryPlugin:
        return MemoryPlugin(config, self.broker)

    def down(self) -> None:
        self.broker.available = False

    def up(self) -> None:
        self.broker.available = True


class TestMemoryConformance(BrokerConformance):
    features = Features()

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

    @pytest.fixture
    def broker_outage(self) -> MemoryOutage:
        return MemoryOutage()
