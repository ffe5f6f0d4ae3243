"""The DSN's password is shown nowhere: not when the server refuses the login, not when nobody listens."""

from __future__ import annotations

import pytest

from secret_checks import leaks, shown_everywhere
from spine_core.testing import free_port

from .conftest import POSTGRES_URL

SECRET = "s3cret-pg-Pw"


def _env(dsn: str) -> dict[str, str]:
    return {"SPINE_BROKER": "memory", "SPINE_POSTGRES_DSN": dsn}


def test_a_refused_login_is_shown_nowhere(database: tuple[str, str], caplog: pytest.LogCaptureFixture) -> None:
    """The server refuses the role: the boot error gives its reason, and no place shows the password."""
    host = POSTGRES_URL.split("@", 1)[-1].split("/", 1)[0]
    places = shown_everywhere(_env(f"postgresql://spine_nobody:{SECRET}@{host}/postgres"), caplog)
    assert "PostgreSQL at postgresql://***@" in places["exception"]
    assert "spine_nobody" in places["exception"]  # the server's reason: the role does not exist
    assert leaks(places, SECRET) == []


def test_a_key_value_dsn_to_nobody_shows_no_password(caplog: pytest.LogCaptureFixture) -> None:
    """A libpq key=value DSN to a port nobody listens on: refused, the password shown nowhere."""
    places = shown_everywhere(_env(f"host=127.0.0.1 port={free_port()} user=spine password={SECRET}"), caplog)
    assert "password=***" in places["exception"]
    assert leaks(places, SECRET) == []
