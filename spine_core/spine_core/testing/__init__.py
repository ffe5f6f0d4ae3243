"""Test support (needs pytest: ``pip install spine-core[testing]``): the broker conformance suites
and their harness, for a plugin's own tests."""

from ..event import to_message
from ..plugins import BrokerFactory
from .broker_suite import BrokerConformance
from .dead_letter_suite import DeadLetterConformance, Failing, wait_listed
from .harness import Features, Harness, Outage, Received, Recorder, Sample

__all__ = [
    "BrokerConformance", "BrokerFactory", "DeadLetterConformance", "Failing", "Features", "Harness", "Outage",
    "Received", "Recorder", "Sample", "to_message", "wait_listed",
]
