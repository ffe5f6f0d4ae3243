"""spine-rabbitmq installs beside spine-core alone (no other broker) and is found as ``rabbitmq``."""

from __future__ import annotations

from pathlib import Path

from broker_checks import installed_alone


def test_installs_with_the_core_alone(tmp_path: Path) -> None:
    """In a fresh venv with only spine-core and spine-rabbitmq, ``SPINE_BROKER=rabbitmq`` finds the plugin."""
    report = installed_alone("spine_rabbitmq", "rabbitmq", tmp_path)
    assert (report["plugin"], report["settings"]["exchange"]) == ("RabbitMQPlugin", "spine")
