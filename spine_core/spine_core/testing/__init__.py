"""Test support shipped with the core: the broker conformance suite."""
