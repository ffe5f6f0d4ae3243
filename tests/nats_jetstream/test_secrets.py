"""NATS credentials are shown nowhere: not with a refused password, not with an unreachable host."""

from __future__ import annotations

import shutil

import pytest

from secret_checks import leaks, shown_everywhere
from spine_core.testing import PrivateServer, free_port, unavailable

SECRET = "s3cret-nats-Pw"


def test_a_refused_password_is_shown_nowhere(caplog: pytest.LogCaptureFixture) -> None:
    """A server asking for another password refuses the order service at boot; no place shows it."""
    if shutil.which("nats-server") is None:
        unavailable("nats-server is not installed; this test starts a private one with a password")
    with PrivateServer(["nats-server", "-a", "127.0.0.1", "-p", "{port}", "--user", "spine",
                        "--pass", "the-right-one"]) as server:
        places = shown_everywhere({
            "SPINE_BROKER": "nats", "SPINE_NATS_URL": f"nats://127.0.0.1:{server.port}",
            "SPINE_NATS_USER": "spine", "SPINE_NATS_PASSWORD": SECRET,
        }, caplog)
    assert "refused the connection" in places["exception"]
    assert leaks(places, SECRET) == []


def test_an_unreachable_host_shows_no_password(caplog: pytest.LogCaptureFixture) -> None:
    """Nobody listens: readiness says where it could not connect, without the URL's password or the token."""
    port = free_port()
    places = shown_everywhere({
        "SPINE_BROKER": "nats", "SPINE_NATS_URL": f"nats://spine:{SECRET}@127.0.0.1:{port}",
        "SPINE_NATS_TOKEN": SECRET + "-token",
    }, caplog)
    assert f"127.0.0.1:{port}" in places["/health/ready"] and places["/health/ready"].startswith("503")
    assert leaks(places, SECRET) == []
