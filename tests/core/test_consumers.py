"""Consumers: parameters resolved by type, retry with backoff, dead letters, events they publish."""

from __future__ import annotations

import time
from typing import Any

import pytest
from attrs import frozen

from spine_core import BootError, Context, IncomingMessage, RetryOptions, Spine, publish
from spine_core.messages import Headers, OutgoingMessage
from spine_memory.pytest_plugin import SpineAppFactory

from .support import OrderCreated, OrderShipped, options, payload, send

SEEN: list[Any] = []


@frozen
class Other:
    name: str


class Consumer:
    fail_times = 0

    def everything(
        self, ctx: Context, event_name: str, raw: bytes, message: IncomingMessage, event: OrderCreated
    ) -> None:
        SEEN.append((ctx, event_name, raw, message, event))

    def flaky(self, event: OrderCreated) -> None:
        SEEN.append(time.monotonic())
        if len(SEEN) <= self.fail_times:
            raise RuntimeError(f"attempt {len(SEEN)} failed")

    def ship(self, ctx: Context, event: OrderCreated) -> None:
        SEEN.append(event.order_id)
        publish.event(ctx, OrderShipped(event.order_id))
        if len(SEEN) <= self.fail_times:
            raise RuntimeError("failed after queuing")

    def shipped(self, event: OrderShipped) -> None:
        SEEN.append(("shipped", event.order_id))

    def raw_only(self, raw: bytes) -> None:
        SEEN.append(raw)

    def two_events(self, a: OrderCreated, b: Other) -> None:
        pass

    def unsupported(self, value: int) -> None:
        pass


@pytest.fixture(autouse=True)
def clear() -> None:
    SEEN.clear()
    Consumer.fail_times = 0


def consumer_app(topic: str, handler: Any) -> Spine:
    app = Spine()
    app.constructor(Consumer)
    app.consumers().register(topic, handler)
    return app


def test_handler_gets_context_name_bytes_message_and_event(spine_app: SpineAppFactory) -> None:
    """Each parameter is resolved by its type: context, event name, raw payload, message, decoded event."""
    started = spine_app(consumer_app("order.created", Consumer.everything), options(group="g", http=False, prefix="p."))
    send(started.broker, OrderCreated(12345), prefix="p.", correlation_id="corr-9")
    started.broker.drain()
    [(ctx, event_name, raw, message, event)] = SEEN
    assert event_name == "order.created"
    assert payload(raw) == {"order_id": 12345, "at": "2024-05-01T12:30:00Z"}
    assert message.topic == "p.order.created" and message.key == "12345" and message.value == raw
    assert event == OrderCreated(12345)
    assert ctx.message is message and ctx.event == event
    assert ctx.correlation_id == "corr-9"
    assert ctx.route == "p.order.created"


def test_event_name_falls_back_to_the_registered_topic(spine_app: SpineAppFactory) -> None:
    """A message without an event-name header reports the topic it was registered for."""
    started = spine_app(consumer_app("order.created", Consumer.everything), options(group="g", http=False, prefix="p."))
    started.broker.publish([OutgoingMessage("p.order.created", b'{"order_id": 1, "at": "2024-05-01T12:30:00Z"}')], 1)
    started.broker.drain()
    assert SEEN[0][1] == "order.created"


def test_raw_payload_handler_takes_any_bytes(spine_app: SpineAppFactory) -> None:
    """A handler that only takes bytes gets the payload as is, even when it is not JSON."""
    started = spine_app(consumer_app("blobs", Consumer.raw_only), options(group="g", http=False))
    started.broker.publish([OutgoingMessage("blobs", b"\xff not json")], 1)
    started.broker.drain()
    assert SEEN == [b"\xff not json"]
    assert started.broker.messages("blobs.dlq") == []


def test_failure_is_retried_with_backoff_then_succeeds(spine_app: SpineAppFactory) -> None:
    """A handler failing fewer times than the attempts is retried, waiting longer each time, and acked."""
    Consumer.fail_times = 2
    opts = options(group="g", http=False, attempts=3, initial_delay=0.05)
    started = spine_app(consumer_app("order.created", Consumer.flaky), opts)
    send(started.broker, OrderCreated(1))
    started.broker.drain()
    assert len(SEEN) == 3
    gaps = [b - a for a, b in zip(SEEN, SEEN[1:])]
    assert gaps[0] >= 0.05 and gaps[1] >= 0.1
    assert started.broker.messages("order.created.dlq") == []


def test_exhausted_retries_dead_letter_the_message(spine_app: SpineAppFactory) -> None:
    """After the last failed attempt the message goes to ``<topic>.dlq`` with why and from where."""
    Consumer.fail_times = 99
    started = spine_app(consumer_app("order.created", Consumer.flaky), options(group="g", http=False, attempts=3))
    send(started.broker, OrderCreated(1), OrderCreated(2))
    started.broker.drain()
    assert len(SEEN) == 6, "each message tried three times, then consumption went on"
    dead = started.broker.messages("order.created.dlq")
    assert sorted(payload(m.value)["order_id"] for m in dead) == [1, 2]  # type: ignore[index]
    headers = dead[0].headers
    assert headers[Headers.ERROR_TYPE] == "RuntimeError"
    assert "failed" in headers[Headers.ERROR_MESSAGE]
    assert headers[Headers.ATTEMPTS] == "3"
    assert headers[Headers.ORIGINAL_TOPIC] == "order.created"
    assert {"dead-letter-original-partition", "dead-letter-original-offset"} <= set(headers)
    assert headers[Headers.EVENT_NAME] == "order.created", "original headers are kept"


@pytest.mark.parametrize("value", [b"not json", b'{"order_id": "abc"}', b"[]"])
def test_undecodable_message_is_dead_lettered_at_once(spine_app: SpineAppFactory, value: bytes) -> None:
    """A payload that cannot become the handler's event is dead-lettered without calling the handler."""
    started = spine_app(consumer_app("order.created", Consumer.flaky), options(group="g", http=False, attempts=5))
    started.broker.publish([OutgoingMessage("order.created", value, "k")], 1)
    started.broker.drain()
    assert SEEN == []
    [dead] = started.broker.messages("order.created.dlq")
    assert dead.value == value
    assert dead.headers[Headers.ATTEMPTS] == "0"


def test_events_published_by_a_consumer_go_out_after_success(spine_app: SpineAppFactory) -> None:
    """A consumer's events are dispatched once it succeeds; those of a failed attempt are dropped."""
    Consumer.fail_times = 1
    app = consumer_app("order.created", Consumer.ship)
    app.consumers().register("order.shipped", Consumer.shipped)
    started = spine_app(app, options(group="g", http=False))
    send(started.broker, OrderCreated(8))
    started.broker.drain()
    shipped = started.broker.messages("order.shipped")
    assert [payload(m.value)["order_id"] for m in shipped] == [8]  # type: ignore[index]
    assert SEEN == [8, 8, ("shipped", 8)]


def test_consumer_without_write_options_cannot_publish(spine_app: SpineAppFactory) -> None:
    """A consumer whose app has no write options fails its message into the dead letters, not silently."""
    started = spine_app(
        consumer_app("order.created", Consumer.ship), options(group="g", http=False, write=False, attempts=1)
    )
    send(started.broker, OrderCreated(3))
    started.broker.drain()
    [dead] = started.broker.messages("order.created.dlq")
    assert dead.headers[Headers.ERROR_TYPE] == "PublishError"


def test_stopping_during_backoff_gives_the_message_back(spine_app: SpineAppFactory) -> None:
    """Closing the app while a message waits to be retried returns it unsettled, not dead-lettered."""
    Consumer.fail_times = 99
    opts = options(group="g", http=False, attempts=3, initial_delay=30.0)
    started = spine_app(consumer_app("order.created", Consumer.flaky), opts)
    send(started.broker, OrderCreated(1))
    with pytest.raises(TimeoutError):
        started.broker.drain(timeout=0.2)
    began = time.monotonic()
    started.runtime.close(timeout=5.0)
    assert time.monotonic() - began < 5.0, "the backoff wait is interrupted"
    assert started.broker.messages("order.created.dlq") == []
    replacement = spine_app(consumer_app("order.created", Consumer.raw_only), opts)
    replacement.broker.drain()
    assert len(SEEN) == 2 and SEEN[1] == started.broker.messages("order.created")[0].value


def test_retry_delays_grow_and_are_capped() -> None:
    """The delay after attempt n is initial * multiplier^(n-1), at most max_delay."""
    retry = RetryOptions(initial_delay=0.5, multiplier=3.0, max_delay=2.0)
    assert [retry.delay(n) for n in (1, 2, 3)] == [0.5, 1.5, 2.0]


def test_topic_registered_twice_is_refused() -> None:
    """One topic has one handler."""
    app = consumer_app("order.created", Consumer.flaky)
    with pytest.raises(BootError, match="already has a consumer"):
        app.consumers().register("order.created", Consumer.ship)


def test_consumers_need_read_options(spine_app: SpineAppFactory) -> None:
    """Registering consumers in an app without read options is a BootError."""
    with pytest.raises(BootError, match="no read options"):
        spine_app(consumer_app("order.created", Consumer.flaky), options(http=False))


@pytest.mark.parametrize("handler, match", [
    (Consumer.two_events, "takes one event"),
    (Consumer.unsupported, "cannot resolve parameter 'value'"),
])
def test_unresolvable_consumer_signature_is_a_boot_error(spine_app: SpineAppFactory, handler: Any, match: str) -> None:
    """A consumer asking for two events or an unknown type is refused at boot."""
    with pytest.raises(BootError, match=match):
        spine_app(consumer_app("order.created", handler), options(group="g", http=False))
