"""Apps of the ops tests: ``/pings/:n`` publishes ``ping``; a consumer records each context it handled."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone

from attrs import frozen

from spine_core import (
    BrokerOptions, Context, HTTPOptions, Interceptor, Options, ReadOptions, RetryOptions, Spine, Unauthorized,
    WriteOptions, path, publish,
)

log = logging.getLogger("ops.sample")


@frozen
class Ping:
    """``n < 0`` makes the consumer fail every attempt."""

    n: int
    at: datetime

    def name(self) -> str:
        return "ping"

    def occurred_at(self) -> datetime:
        return self.at

    def key(self) -> str:
        return str(self.n)


class PingController:
    def create(self, ctx: Context, n: path.Int) -> str:
        log.info("ping %s requested", n.value)
        publish.event(ctx, Ping(n.value, datetime.now(timezone.utc)))
        return "OK"


class PingConsumer:
    """Records the context of every successful call; fails on negative pings."""

    def __init__(self) -> None:
        self.handled: list[Context] = []
        self.lock = threading.Lock()

    def on_ping(self, ctx: Context, event: Ping) -> None:
        if event.n < 0:
            raise ValueError(f"cannot handle ping {event.n}")
        log.info("ping %s handled", event.n)
        with self.lock:
            self.handled.append(ctx)


class DenyAll(Interceptor):
    """Refuses every route: the ops endpoints must still answer."""

    def pre_handle(self, ctx: Context) -> None:
        raise Unauthorized("no")


def create_app() -> Spine:
    app = Spine()
    app.constructor(PingController, PingConsumer)
    app.route("POST", "/pings/:n", PingController.create)
    app.consumers().register("ping", PingConsumer.on_ping)
    return app


def options() -> Options:
    return Options(
        address="127.0.0.1:0",
        broker=BrokerOptions(
            name="memory", topic_prefix="t.", write=WriteOptions(publish_timeout=0.5),
            read=ReadOptions(group_id="pingers", retry=RetryOptions(attempts=2, initial_delay=0.001)),
        ),
        http=HTTPOptions(global_prefix="/api"),
    )


def guarded_app() -> Spine:
    app = create_app()
    app.interceptor(DenyAll)
    return app


app = create_app()
not_an_app = 42


def broken() -> Spine:
    raise RuntimeError("factory exploded")


def wrong_kind() -> Options:
    return Options()
