"""Test support shipped with the core: the broker conformance suite and the broker test kit."""

from .kit import (
    BrokerScope, Deliveries, OutageSwitch, PrivateServer, free_port, logged, mark_tests_in, publishes, unavailable,
    wait_until,
)

__all__ = [
    "BrokerScope", "Deliveries", "OutageSwitch", "PrivateServer", "free_port", "logged", "mark_tests_in",
    "publishes", "unavailable", "wait_until",
]
