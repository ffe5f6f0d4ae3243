"""The redaction helper: secrets masked in text, settings, reprs, log records, and read from files."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import spine_core.broker
import spine_core.extension
from spine_core import BootError, BrokerOptions, Options
from spine_core.options import BrokerConfig
from spine_core.toolkit import redact as helper
from spine_core.toolkit.redact import hidden, protect, redact, redact_settings, remember


@pytest.mark.parametrize(("text", "shown"), [
    ("amqp://guest:pw1@host:5672/", "amqp://***@host:5672/"),
    ("rediss://:p@ss@h:6380/0 and nats://tok1@n:4222", "rediss://***@h:6380/0 and nats://***@n:4222"),
    ("host=db user=app password='a b' sslmode=verify-full", "host=db user=app password=*** sslmode=verify-full"),
    ("postgresql://db/x?password=pw2&sslmode=require", "postgresql://db/x?password=***&sslmode=require"),
    ("{'sasl.password': 'pw3', 'acks': 'all'}", "{'sasl.password': ***, 'acks': 'all'}"),
    ("password authentication failed for user app", "password authentication failed for user app"),
])
def test_redact_masks_userinfo_and_secret_pairs(text: str, shown: str) -> None:
    """URL userinfo and password/token pairs are masked; prose about passwords is kept."""
    assert redact(text) == shown


def test_protected_settings_are_masked_anywhere() -> None:
    """Once protected, a secret value is masked in any text, and the settings' copy hides it."""
    shown = protect({"sasl.password": "Zq9-unique-1", "url": "amqp//u:Zq9-unique-2@h", "acks": "all"})
    assert shown == {"sasl.password": "***", "url": "amqp//u:***@h", "acks": "all"}
    assert redact("client said Zq9-unique-1 and Zq9-unique-2") == "client said *** and ***"


def test_log_records_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    """A remembered secret is masked in a record's message and traceback, whoever logs it."""
    remember(["Zq9-unique-3"])
    log = logging.getLogger("some.client.library")
    log.warning("connecting with %s", "Zq9-unique-3")
    try:
        raise ValueError("bad login Zq9-unique-3")
    except ValueError:
        log.exception("failed")
    text = "\n".join(logging.Formatter().format(r) for r in caplog.records)
    assert "Zq9-unique-3" not in text
    assert "connecting with ***" in text and "ValueError: bad login ***" in text


def test_reprs_of_options_and_config_hide_secrets() -> None:
    """Tracebacks show reprs: the options' and the broker config's hide passwords and userinfo."""
    settings = {"url": "amqp://u:Zq9-unique-4@h/", "sasl.password": "Zq9-unique-5"}
    options = Options(broker=BrokerOptions(name="x", settings={"x": settings}))
    shown = repr(options) + repr(BrokerConfig.from_options(options))
    assert "Zq9-unique-4" not in shown and "Zq9-unique-5" not in shown
    assert "'url': 'amqp://***@h/'" in shown and "'sasl.password': '***'" in shown
    assert redact_settings(settings)["url"] == "amqp://***@h/"


def test_a_secret_is_read_from_its_file(tmp_path: Path) -> None:
    """SPINE_<NAME>_FILE gives the setting the file's content (one newline dropped), remembered as a secret."""
    secret = tmp_path / "url"
    secret.write_text("amqp://u:Zq9-unique-6@h/\n")
    options = Options().with_env({"SPINE_BROKER": "rabbitmq", "SPINE_RABBITMQ_URL_FILE": str(secret)})
    assert options.broker.settings["rabbitmq"]["url"] == "amqp://u:Zq9-unique-6@h/"
    assert redact("Zq9-unique-6") == "***"


def test_a_secret_file_and_its_variable_both_set_or_missing_file_are_refused(tmp_path: Path) -> None:
    """Both forms set, or an unreadable file, stop the app naming the variable, not the content."""
    with pytest.raises(BootError, match="SPINE_REDIS_URL and SPINE_REDIS_URL_FILE are both set"):
        Options().with_env({"SPINE_REDIS_URL": "redis://h", "SPINE_REDIS_URL_FILE": "/x"})
    with pytest.raises(BootError, match="SPINE_POSTGRES_DSN_FILE: cannot read"):
        Options().with_env({"SPINE_POSTGRES_DSN_FILE": str(tmp_path / "absent")})


def test_both_facades_hand_out_the_one_helper() -> None:
    """spine_core.broker and spine_core.extension give the same functions."""
    for facade in (spine_core.broker, spine_core.extension):
        assert facade.redact is helper.redact and facade.protect is helper.protect


def test_a_secret_field_is_masked_whole_however_short() -> None:
    """``hidden`` masks any non-empty value (even one too short to be remembered) and shows an empty one."""
    assert hidden("pw") == "'***'" and hidden("a-long-token") == "'***'"
    assert hidden("") == "''"
