"""The dead-letter conformance suite on the memory broker."""

from __future__ import annotations

import pytest

from spine_core.testing import BrokerFactory, DeadLetterConformance
from spine_memory import MemoryBroker, MemoryPlugin


class TestMemoryDeadLetters(DeadLetterConformance):
    @pytest.fixture
    def make_broker(self) -> BrokerFactory:
        broker = MemoryBroker()
        return lambda config: MemoryPlugin(config, broker)
