"""Kafka's SASL password is shown nowhere: Tansu refuses every login, and an unreachable cluster too."""

from __future__ import annotations

import pytest

from secret_checks import leaks, shown_everywhere
from spine_core.testing import free_port

SECRET = "s3cret-sasl-Pw"


def _env(bootstrap: str) -> dict[str, str]:
    return {
        "SPINE_BROKER": "kafka", "SPINE_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "SPINE_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "SPINE_KAFKA_SASL_MECHANISM": "PLAIN",
        "SPINE_KAFKA_SASL_USERNAME": "spine", "SPINE_KAFKA_SASL_PASSWORD": SECRET,
    }


def test_a_refused_login_is_shown_nowhere(kafka_bootstrap_servers: str, caplog: pytest.LogCaptureFixture) -> None:
    """Tansu refuses the SASL login: publishing fails with 503, and no place shows the password."""
    places = shown_everywhere(_env(kafka_bootstrap_servers), caplog)
    assert places["POST /orders/12345"].startswith("503")
    assert "SASL PLAIN mechanism handshake failed" in places["/health/ready"]  # the refusal, said clearly
    assert "'sasl.password': '***'" in places["repr of the plugin"]
    assert leaks(places, SECRET) == []


def test_an_unreachable_cluster_shows_no_password(caplog: pytest.LogCaptureFixture) -> None:
    """Nobody listens: readiness says kafka is unreachable, and no place shows the password."""
    places = shown_everywhere(_env(f"127.0.0.1:{free_port()}"), caplog)
    assert places["/health/ready"].startswith("503")
    assert leaks(places, SECRET) == []
