"""The AMQP URL's password is shown nowhere: not with a wrong password, not with an unreachable host."""

from __future__ import annotations

import pytest

from secret_checks import leaks, shown_everywhere
from spine_core.testing import free_port

SECRET = "s3cret-amqp-Pw"


def test_a_refused_password_is_shown_nowhere(rabbitmq_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """RabbitMQ refuses the credentials: the boot error says so, and no place shows the password."""
    host = rabbitmq_url.rsplit("@", 1)[-1]
    places = shown_everywhere({"SPINE_BROKER": "rabbitmq", "SPINE_RABBITMQ_URL": f"amqp://guest:{SECRET}@{host}"},
                              caplog)
    assert "refused the connection to amqp://***@" in places["exception"]
    assert "ProbableAuthenticationError" in places["exception"]
    assert leaks(places, SECRET) == []


def test_an_unreachable_host_shows_no_password(caplog: pytest.LogCaptureFixture) -> None:
    """Nobody listens: readiness says not ready, and no place shows the password."""
    url = f"amqp://spine:{SECRET}@127.0.0.1:{free_port()}/"
    places = shown_everywhere({"SPINE_BROKER": "rabbitmq", "SPINE_RABBITMQ_URL": url}, caplog)
    assert places["/health/ready"].startswith("503")
    assert "amqp://***@127.0.0.1" in places["spine dlq list order.created --app apps.order_app"]
    assert leaks(places, SECRET) == []
