"""Broker plugins: chosen by name from entry points, checked at boot, or given as an object."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from falcon.testing import TestClient

from spine_core import BootError, Context, Spine, hookimpl, publish
from spine_core.messages import OutgoingMessage, Subscription

from .support import OrderCreated, options


class PublishOnly:
    @hookimpl
    def spine_publish(self, messages: Sequence[OutgoingMessage], timeout: float) -> None:
        pass


class Typo(PublishOnly):
    @hookimpl
    def spine_subscribe(self, group_id: str, subscriptions: Sequence[Subscription]) -> None:
        pass

    @hookimpl
    def spine_publsh(self, messages: Sequence[OutgoingMessage], timeout: float) -> None:
        pass


class Recording(PublishOnly):
    """A complete, minimal broker plugin that keeps what it is asked to publish."""

    def __init__(self) -> None:
        self.published: list[OutgoingMessage] = []
        self.started = False

    @hookimpl
    def spine_broker_start(self) -> None:
        self.started = True

    @hookimpl
    def spine_publish(self, messages: Sequence[OutgoingMessage], timeout: float) -> None:
        self.published.extend(messages)

    @hookimpl
    def spine_subscribe(self, group_id: str, subscriptions: Sequence[Subscription]) -> None:
        pass


def create(ctx: Context) -> str:
    publish.event(ctx, OrderCreated(1))
    return "OK"


def test_plugin_missing_a_required_hook_is_refused() -> None:
    """A broker that cannot publish or subscribe fails at boot instead of dropping events."""
    with pytest.raises(BootError, match="does not implement spine_subscribe"):
        Spine().runtime(options(), broker=PublishOnly())


def test_plugin_with_an_unknown_hook_is_refused() -> None:
    """A misspelt hook implementation is a BootError naming the plugin."""
    with pytest.raises(BootError, match="implements an unknown hook"):
        Spine().runtime(options(), broker=Typo())


def test_plugin_object_replaces_the_named_broker() -> None:
    """A plugin object given to the app is started and receives the published messages."""
    app = Spine()
    app.route("POST", "/orders", create)
    broker = Recording()
    assert TestClient(app.wsgi(options(), broker=broker)).simulate_post("/orders").text == "OK"
    assert broker.started
    assert [m.topic for m in broker.published] == ["order.created"]
