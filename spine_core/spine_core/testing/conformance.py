"""Moved: import the suites from :mod:`spine_core.testing` (or :mod:`spine_core.broker`); this module
goes in the next release."""

import warnings

from ..plugins import BrokerFactory
from .broker_suite import BrokerConformance
from .dead_letter_suite import DeadLetterConformance, Failing, wait_listed
from .harness import BrokerOutage, Features, Harness, Received, Recorder, Sample

Outage = BrokerOutage

warnings.warn("spine_core.testing.conformance moved: import the suites from spine_core.testing; "
              "this module goes in the next release", DeprecationWarning, stacklevel=2)

__all__ = [
    "BrokerConformance", "BrokerFactory", "DeadLetterConformance", "Failing", "Features", "Harness", "Outage",
    "Received", "Recorder", "Sample", "wait_listed",
]
