"""The Redis URL's password is shown nowhere: not with a wrong password, not with an unreachable host."""

from __future__ import annotations

import pytest

from secret_checks import leaks, shown_everywhere
from spine_core.testing import free_port

SECRET = "s3cret-redis-Pw"


def test_a_refused_password_is_shown_nowhere(redis_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """Redis refuses the password: readiness and the 503 say so, and no place shows it."""
    host = redis_url.split("://", 1)[1].rsplit("@", 1)[-1]
    places = shown_everywhere({"SPINE_BROKER": "redis", "SPINE_REDIS_URL": f"redis://spine:{SECRET}@{host}"}, caplog)
    assert places["/health/ready"].startswith("503")
    assert places["POST /orders/12345"].startswith("503")
    assert leaks(places, SECRET) == []


def test_an_unreachable_host_shows_no_password(caplog: pytest.LogCaptureFixture) -> None:
    """Nobody listens: readiness says where it could not connect, without the password."""
    places = shown_everywhere(
        {"SPINE_BROKER": "redis", "SPINE_REDIS_URL": f"redis://:{SECRET}@127.0.0.1:{free_port()}/0"}, caplog)
    assert "Redis unreachable at 127.0.0.1" in places["/health/ready"]
    assert leaks(places, SECRET) == []


def test_an_invalid_url_shows_no_password(caplog: pytest.LogCaptureFixture) -> None:
    """A URL that does not parse is refused at boot without the password in the error."""
    places = shown_everywhere({"SPINE_BROKER": "redis", "SPINE_REDIS_URL": f"redis//:{SECRET}@host:x/0"}, caplog)
    assert "redis url" in places["exception"] and "is invalid" in places["exception"]
    assert leaks(places, SECRET) == []
