"""StartedApp, what the spine_app fixture returns."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from apps.events import OrderCreated
from spine_core import BrokerOptions, Options, ReadOptions, Spine
from spine_memory.pytest_plugin import StartedApp


class Recorder:
    def __init__(self) -> None:
        self.seen: list[int] = []

    def on_created(self, event: OrderCreated) -> None:
        self.seen.append(event.order_id)


def test_publish_feeds_a_consumer_only_app(spine_app: Callable[..., StartedApp]) -> None:
    """StartedApp.publish hands events to a consumer-only app, with its topic prefix."""
    recorder = Recorder()
    app = Spine()
    app.consumers().register("order.created", recorder.on_created)
    options = Options(http=None, broker=BrokerOptions(topic_prefix="t.", read=ReadOptions(group_id="g")))
    started = spine_app(app, options)
    started.publish(OrderCreated(order_id=5, at=datetime.now(timezone.utc)))
    started.broker.drain()
    assert recorder.seen == [5]
    assert [m.topic for m in started.broker.messages("t.order.created")] == ["t.order.created"]
