"""Test support (needs pytest: ``pip install spine-core[testing]``): the broker conformance suites
and their harness, and the test kit of a plugin's own tests."""

from ..event import to_message
from ..plugins import BrokerFactory
from .broker_suite import BrokerConformance
from .dead_letter_suite import DeadLetterConformance, Failing, wait_listed
from .harness import BrokerOutage, Features, Harness, Received, Recorder, Sample
from .kit import (
    BrokerScope, Deliveries, OutageSwitch, PrivateServer, free_port, logged, mark_tests_in, publishes, unavailable,
    wait_until,
)

__all__ = [
    "BrokerConformance", "BrokerFactory", "BrokerOutage", "BrokerScope", "DeadLetterConformance", "Deliveries",
    "Failing", "Features", "Harness", "OutageSwitch", "PrivateServer", "Received", "Recorder", "Sample", "free_port",
    "logged", "mark_tests_in", "publishes", "to_message", "unavailable", "wait_listed", "wait_until",
]
