"""Consuming: one member of a group, on the group's durable pull consumer of each subscribed topic's stream.

Members of a group bind to the same durable consumer and so share its messages. On the
connection's loop, a task per topic fetches messages (at most ``max.pending`` unacknowledged:
the consumer's ``max_ack_pending``) and hands them to the core's engine, one lane per key. The
engine settles them on its workers, and the toolkit's ``AsyncioHandoff`` brings the settlements
back to the loop: ``ack`` when done, ``nak`` with the engine's redelivery delay when handed back.
While the plugin holds a message (queued or in a handler) it says ``in_progress`` every third of
``ack_wait``, so JetStream does not redeliver it meanwhile; on close, what it still holds is
``nak``-ed for the next member at once. JetStream never dead-letters (``max_deliver`` is
unlimited): Spine does, after its attempts.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import nats
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api

from spine_core.broker import (
    AsyncioHandoff, Headers, IncomingMessage, Lanes, OutgoingMessage, Outcome, Subscription, error_text,
)

from .config import NatsSettings, durable_name, stream_name
from .connection import Connection
from .publisher import Publisher, spine_headers

log = logging.getLogger("spine.nats")

FETCH_WAIT = 1.0
"""Seconds one fetch waits for messages: the longest a close waits for a fetch under way."""
MAX_BACKOFF = 5.0

Settled = tuple[Msg, Outcome]


class Consumer:
    """One member of group ``group_id`` on every subscription's stream."""

    def __init__(self, connection: Connection, publisher: Publisher, settings: NatsSettings, group_id: str,
                 subscriptions: Sequence[Subscription], dead_letter: Callable[[OutgoingMessage], None],
                 redelivery_delay: float) -> None:
        self._connection = connection
        self._publisher = publisher
        self._settings = settings
        self.group = group_id
        self._durable = durable_name(group_id)
        self._topics = [s.topic for s in subscriptions]
        self._dead_letter = dead_letter
        self._redelivery_delay = redelivery_delay
        self._lanes: Lanes[Msg] = Lanes(self, subscriptions, workers=settings.workers,
                                        max_pending=settings.max_pending, name=f"nats-{group_id}")
        self._lock = self._lanes.lock
        """The engine's lock also guards what follows."""
        self._held: dict[tuple[str, int], Msg] = {}
        """Messages fetched and not yet settled, by (stream, stream sequence)."""
        self._settlements: AsyncioHandoff[Settled] = AsyncioHandoff(self._lock, connection.loop, self._apply)
        self._closed = False
        self._stopping = False
        self._bound: dict[str, JetStreamContext.PullSubscription] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._error = "starting"
        self._hand_back_delay = 0.0

    @property
    def consuming(self) -> bool:
        return self._connection.connected and len(self._bound) == len(self._topics)

    @property
    def last_error(self) -> str:
        return self._connection.outage.error or self._error

    def start(self, timeout: float) -> None:
        """Start fetching; wait up to ``timeout`` for the consumers (fetching starts later if NATS is away)."""
        self._lanes.start()
        self._connection.call(self._start(), timeout)
        deadline = time.monotonic() + timeout
        while not self.consuming and time.monotonic() < deadline:
            time.sleep(0.02)
        if not self.consuming:
            log.warning("nats group %r is not consuming yet: %s", self.group, self.last_error)

    async def _start(self) -> None:
        loop = self._connection.loop
        self._tasks = [loop.create_task(self._fetch_loop(topic)) for topic in self._topics]
        self._tasks.append(loop.create_task(self._keep_held()))

    def lag(self, timeout: float) -> dict[tuple[str, int], int]:
        """Messages of each topic not yet delivered to the group plus those delivered and not yet
        acknowledged (the durable consumer's pending counts), keyed ``(topic, 0)``."""
        return self._connection.call(self._lag(), timeout)

    async def _lag(self) -> dict[tuple[str, int], int]:
        lags = {}
        for topic in self._topics:
            info = await self._connection.js.consumer_info(stream_name(topic), self._durable)
            lags[(topic, 0)] = (info.num_pending or 0) + (info.num_ack_pending or 0)
        return lags

    def close(self, timeout: float) -> None:
        """Stop fetching, wait up to ``timeout`` for the handlers in flight and settle them; hand back
        (``nak``) what is left, so the next member takes it at once."""
        deadline = time.monotonic() + timeout
        self._stopping = True
        try:
            self._connection.call(self._stop_fetching(deadline), max(0.1, deadline - time.monotonic()) + 0.5)
        except Exception as e:
            log.debug("nats group %r: stopping the fetches: %s", self.group, error_text(e))
        self._lanes.stop()
        if not self._lanes.drain(deadline):
            log.warning("nats group %r: %d message(s) still in flight at shutdown are left for the next member",
                        self.group, self._lanes.in_flight)
        with self._lock:
            self._closed = True
            settled, left = self._settlements.take_locked(), list(self._held.values())
            self._held.clear()
        try:
            self._connection.call(self._hand_back(settled, left), 5.0)
        except Exception as e:
            log.warning("nats group %r: could not hand back %d unsettled message(s) at close (%s); JetStream "
                        "redelivers them after ack.wait", self.group, len(left), error_text(e))
        self._lanes.join(0.1)

    async def _stop_fetching(self, deadline: float) -> None:
        """Let the fetches under way end (within ``FETCH_WAIT``, or the deadline), then unsubscribe."""
        fetches, keeper = self._tasks[:-1], self._tasks[-1:]
        for task in keeper:
            task.cancel()
        if fetches:
            await asyncio.wait(fetches, timeout=max(0.0, min(FETCH_WAIT + 0.5, deadline - time.monotonic())))
        for task in fetches:
            if not task.done():  # its pull request stays with the server until it expires
                self._hand_back_delay = FETCH_WAIT + 0.2
                task.cancel()
        for psub in self._bound.values():
            await _unsubscribe(psub)
        self._bound.clear()

    async def _hand_back(self, settled: list[Settled], left: list[Msg]) -> None:
        log.debug("nats group %r: at close %d settled, %d handed back", self.group, len(settled), len(left))
        await self._apply(settled)
        for msg in left:  # not into a pull request of this member's still waiting on the server
            await msg.nak(delay=self._hand_back_delay)
        await self._connection.client.flush(timeout=5)

    # -- on the loop ---------------------------------------------------------------

    async def _fetch_loop(self, topic: str) -> None:
        backoff = 0.1
        while not self._stopping:
            try:
                psub = self._bound.get(topic)
                if psub is None:
                    psub = self._bound[topic] = await self._bind(topic)
                    if self.consuming:
                        log.info("nats group %r consuming %s", self.group, ", ".join(self._topics))
                msgs = await psub.fetch(self._settings.batch, timeout=FETCH_WAIT)
                backoff = 0.1
            except (nats.errors.TimeoutError, asyncio.TimeoutError):  # nothing new within FETCH_WAIT
                continue
            except asyncio.CancelledError:
                raise
            except Exception as e:  # the server is away, or lost the consumer or its stream: bind again
                self._error = error_text(e)
                log.debug("nats group %r: fetching %s: %r", self.group, topic, e)
                stale = self._bound.pop(topic, None)
                if stale is not None:
                    await _unsubscribe(stale)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            self._take(topic, msgs)
        # stopping: what a last fetch brought is handed back at close

    async def _bind(self, topic: str) -> JetStreamContext.PullSubscription:
        """The group's durable consumer on ``topic``'s stream, made if missing."""
        stream = await self._publisher.ensure_stream(topic) if self._settings.create_streams else stream_name(topic)
        config = api.ConsumerConfig(
            durable_name=self._durable, ack_policy=api.AckPolicy.EXPLICIT, ack_wait=self._settings.ack_wait,
            max_deliver=-1, max_ack_pending=self._settings.max_pending, deliver_policy=api.DeliverPolicy.ALL,
            filter_subject=topic,
        )
        return await self._connection.js.pull_subscribe(topic, durable=self._durable, stream=stream, config=config)

    def _take(self, topic: str, msgs: list[Msg]) -> None:
        """Hand fetched messages to the engine: one lane per key (a message without one has its own)."""
        work: list[tuple[tuple[Any, ...], Msg]] = []
        with self._lock:
            if self._closed:
                return  # never taken: JetStream redelivers them after ack_wait
            for msg in msgs:
                meta = msg.metadata
                position = (meta.stream, meta.sequence.stream)
                if position in self._held:  # redelivered while still ours: the first delivery is settled
                    continue
                self._held[position] = msg
                key = (msg.headers or {}).get(Headers.KEY)
                work.append(((topic, key if key is not None else next(_unkeyed)), msg))
            self._lanes.submit_locked(work)

    async def _keep_held(self) -> None:
        """Tell JetStream every third of ``ack_wait`` that the messages this member holds are in progress."""
        while True:
            await asyncio.sleep(self._settings.ack_wait / 3)
            with self._lock:
                held = list(self._held.values())
            for msg in held:
                try:
                    await msg.in_progress()
                except Exception:  # the connection is away: JetStream redelivers after ack_wait
                    break

    async def _apply(self, settled: list[Settled]) -> None:
        """Acknowledge what is done, ``nak`` what was handed back (redelivered after the delay)."""
        with self._lock:
            for msg, _ in settled:
                meta = msg.metadata
                self._held.pop((meta.stream, meta.sequence.stream), None)
        for msg, outcome in settled:
            if outcome is Outcome.DONE:
                await msg.ack()
            else:
                await msg.nak(delay=self._redelivery_delay)

    # -- the engine's port (called by its workers, under its lock where it says so) -----

    def message(self, item: Msg) -> IncomingMessage:
        return incoming(item)

    def take(self, item: Msg) -> bool:
        return not self._closed

    def settled(self, item: Msg, outcome: Outcome) -> bool:
        if not self._closed:
            self._settlements.put((item, outcome))  # applied on the loop by _apply
        return False

    def worth_finishing(self, item: Msg) -> bool:
        return False

    def dead_letter(self, letter: OutgoingMessage) -> None:
        self._dead_letter(letter)


_unkeyed = itertools.count()


async def _unsubscribe(psub: JetStreamContext.PullSubscription) -> None:
    try:
        await psub.unsubscribe()
    except Exception:  # nosec B110 # the connection is gone: so is the subscription
        pass


def incoming(msg: Msg) -> IncomingMessage:
    """The message of a JetStream delivery, its stream position and delivery count in ``position``."""
    headers = spine_headers(msg.headers)
    meta = msg.metadata
    position = {"stream": meta.stream, "sequence": str(meta.sequence.stream), "delivered": str(meta.num_delivered)}
    return IncomingMessage(msg.subject, msg.data, headers.get(Headers.KEY), headers, position)
