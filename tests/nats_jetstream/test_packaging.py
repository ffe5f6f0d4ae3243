"""spine-nats installs beside spine-core alone (no other broker) and is found as ``nats``."""

from __future__ import annotations

from pathlib import Path

from broker_checks import installed_alone


def test_installs_with_the_core_alone(tmp_path: Path) -> None:
    """In a fresh venv with only spine-core and spine-nats, ``SPINE_BROKER=nats`` finds the plugin."""
    report = installed_alone("spine_nats", "nats", tmp_path)
    assert (report["plugin"], report["settings"]["url"]) == ("NatsPlugin", "nats://127.0.0.1:4222")
