# mypy: warn-unreachable=False
# (these tests read attributes again after calls that change them; mypy keeps its first narrowing)
"""The outage reporter: one line when the server goes, reminders at most every REMIND_EVERY, one when it is back."""

from __future__ import annotations

import logging
import threading

import pytest

from spine_core.broker import Outage, error_text
from spine_core.toolkit import outage as outage_module

log = logging.getLogger("spine.test.outage")


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == log.name]


def test_an_outage_is_one_line_then_reminders_then_one_line(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Repeated failures log once; a reminder comes once REMIND_EVERY passed; the return logs once."""
    outage = Outage("Redis", log, who="redis group 'g'")
    with caplog.at_level(logging.INFO, logger=log.name):
        for _ in range(3):
            outage.down(ConnectionError("Connection refused."))
        assert outage.away and outage.error == "ConnectionError: Connection refused."
        monkeypatch.setattr(outage_module, "REMIND_EVERY", 0.0)
        outage.down("timed out")
        outage.up()
        outage.up()
    first, reminder, back = lines(caplog)
    assert first == ("redis group 'g': Redis unreachable (ConnectionError: Connection refused.); "
                     "retrying, a reminder every 30s")
    assert reminder.startswith("redis group 'g': Redis still unreachable after 0s (timed out)")
    assert back.startswith("redis group 'g': Redis reachable again after ")
    assert not outage.away and outage.error == ""


def test_a_lost_connection_starts_the_outage(caplog: pytest.LogCaptureFixture) -> None:
    """A broken connection is logged at once; failed reconnections are then reminders, not new outages."""
    outage = Outage("RabbitMQ", log, who="publisher")
    with caplog.at_level(logging.INFO, logger=log.name):
        outage.lost(OSError("Transport indicated EOF"))
        outage.lost("again")
        outage.down("refused")
    assert lines(caplog) == ["publisher: connection to RabbitMQ lost (OSError: Transport indicated EOF); reconnecting"]
    assert outage.error == "refused"


def test_levels_and_the_settle_time(caplog: pytest.LogCaptureFixture) -> None:
    """The start goes out at the level given, the end at WARNING; failures within ``settle``
    seconds after the return are stale attempts, not a new outage."""
    outage = Outage("kafka cluster", log, level=logging.ERROR, settle=60.0)
    with caplog.at_level(logging.INFO, logger=log.name):
        outage.down("refused")
        outage.up()
        outage.down("refused, late")
    assert [(r.levelno, r.getMessage()[:27]) for r in caplog.records if r.name == log.name] == [
        (logging.ERROR, "kafka cluster unreachable ("), (logging.WARNING, "kafka cluster reachable aga"),
    ]
    assert not outage.away


def test_reports_from_many_threads_log_one_outage(caplog: pytest.LogCaptureFixture) -> None:
    """Clients on several threads failing at once give one line, not one each."""
    outage = Outage("kafka cluster", log)
    start = threading.Barrier(8)

    def fail() -> None:
        start.wait(5)
        for _ in range(100):
            outage.down("refused")

    threads = [threading.Thread(target=fail) for _ in range(8)]
    with caplog.at_level(logging.INFO, logger=log.name):
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
    assert len(lines(caplog)) == 1


def test_error_text_names_the_type_once() -> None:
    """An error becomes one line with its type; an empty message shows its repr; text stays as is."""
    assert error_text(ValueError("bad")) == "ValueError: bad"
    assert error_text(ValueError("ValueError: bad")) == "ValueError: bad"
    assert error_text(TimeoutError()) == "TimeoutError()"
    assert error_text("refused") == "refused"
