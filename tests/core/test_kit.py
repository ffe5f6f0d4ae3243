# mypy: warn-unreachable=False
# (these tests read attributes again after calls that change them; mypy keeps its first narrowing)
"""The broker test kit: scopes of a test's own, private servers, outage switches, waits."""

from __future__ import annotations

import logging
import sys
from typing import Any

import pytest

from spine_core.broker import ACK, BrokerConfig, IncomingMessage, OutgoingMessage, PublishError
from spine_core.testing import (
    BrokerScope, Deliveries, OutageSwitch, PrivateServer, logged, publishes, unavailable, wait_until,
)
from spine_core.testing.kit import accepts


class Plugin:
    """Stands for a broker plugin: remembers its configuration and whether it was closed."""

    def __init__(self, config: BrokerConfig) -> None:
        self.config = config
        self.closed = False
        self.up = True

    def spine_publish(self, messages: list[OutgoingMessage], timeout: float) -> None:
        if not self.up:
            raise PublishError("away")

    def spine_broker_close(self, timeout: float) -> None:
        self.closed = True


def test_a_scope_names_its_test_and_puts_an_app_on_them() -> None:
    """Each scope has a prefix and a group of its own; ``env`` maps its settings to ``SPINE_<BROKER>_*``."""
    one, two = BrokerScope("demo", Plugin, {"url": "x://h", "queue.type": "q"}), BrokerScope("demo", Plugin, {})
    assert one.prefix != two.prefix and one.group != two.group
    assert one.env(SPINE_ADDRESS=":9") == {
        "SPINE_BROKER": "demo", "SPINE_DEMO_URL": "x://h", "SPINE_DEMO_QUEUE_TYPE": "q",
        "SPINE_DEMO_TOPIC_PREFIX": one.prefix, "SPINE_DEMO_GROUP_ID": one.group, "SPINE_ADDRESS": ":9",
    }


def test_plugins_get_the_scopes_settings_and_are_closed_with_it() -> None:
    """A plugin's own settings win over the scope's, a factory's over both; all are closed at the end."""
    with BrokerScope("demo", Plugin, {"url": "x://h", "exchange": "e"}) as scope:
        plain = scope.plugin(BrokerConfig(name="demo", topic_prefix="p.", settings={"exchange": "mine"}))
        cut = scope.factory(url="x://nobody")(BrokerConfig(name="demo"))
        assert plain.config.settings == {"url": "x://h", "exchange": "mine"}
        assert cut.config.settings == {"url": "x://nobody", "exchange": "e"}
        assert "p." in scope.prefixes and not plain.closed
    assert plain.closed and cut.closed


def test_an_outage_switch_goes_down_and_up_once_each() -> None:
    """``down`` twice takes the server away once; ``up`` brings it back only if it was down."""
    calls: list[str] = []
    switch = OutageSwitch(Plugin, lambda: calls.append("down"), lambda: calls.append("up"))
    switch.up()
    switch.down()
    switch.down()
    switch.up()
    switch.up()
    assert calls == ["down", "up"]
    assert isinstance(switch.make_broker(BrokerConfig(name="demo")), Plugin)


def test_a_private_server_starts_stops_and_starts_again_on_its_port() -> None:
    """The server listens on its own port once started, no longer once stopped, again once restarted."""
    server = PrivateServer([sys.executable, "-m", "http.server", "{port}", "--bind", "127.0.0.1"])
    with server:
        assert server.running and accepts(server.port)
        server.stop()
        assert not server.running and not accepts(server.port)
        server.start()
        assert accepts(server.port)
    assert not server.running


def test_a_server_that_never_gets_ready_fails_clearly() -> None:
    """A command that exits at once fails its start naming the command and the port."""
    server = PrivateServer([sys.executable, "-c", "pass"], start_timeout=5.0)
    with pytest.raises(AssertionError, match=r"did not start on port \d+"):
        server.start()
    assert not server.running


def test_wait_until_names_what_it_waited_for() -> None:
    """A condition that never holds fails after the timeout with what was awaited."""
    wait_until(lambda: True, 0.1, "nothing")
    with pytest.raises(AssertionError, match="timed out after 0.05s waiting for the moon"):
        wait_until(lambda: False, 0.05, "the moon")


def test_deliveries_record_and_acknowledge() -> None:
    """The recording deliver acknowledges each message and keeps its value in order."""
    received = Deliveries()
    assert received(IncomingMessage("t", b"1")) is ACK and received(IncomingMessage("t", b"2")) is ACK
    assert received.values == [b"1", b"2"]


def test_publishes_says_whether_publishing_works() -> None:
    """``publishes`` is True when the plugin confirmed, False when it raised PublishError."""
    plugin: Any = Plugin(BrokerConfig(name="demo"))
    assert publishes(plugin, "t")
    plugin.up = False
    assert not publishes(plugin, "t")


def test_logged_counts_captured_lines(caplog: pytest.LogCaptureFixture) -> None:
    """``logged`` counts the captured lines containing a text."""
    with caplog.at_level(logging.INFO):
        logging.getLogger("spine.test").info("server away")
        logging.getLogger("spine.test").info("server away again")
    assert logged(caplog, "away") == 2 and logged(caplog, "back") == 0


def test_unavailable_skips_or_fails_on_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without CI a missing server skips the test; with ``CI=true`` it fails it."""
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no server"):
        unavailable("no server")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no server"):
        unavailable("no server")
