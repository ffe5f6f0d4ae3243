"""Consuming: one member of a Redis consumer group over one stream per subscribed topic.

The reader thread owns the topology (``XGROUP CREATE ... MKSTREAM``, again whenever the group
vanished, e.g. after a Redis restart), reads new entries with ``XREADGROUP``, claims entries
that stayed pending with a silent member for ``claim.idle`` seconds (``XAUTOCLAIM``) and keeps
the idle time of its own unsettled entries low (``XCLAIM ... JUSTID``) so that nobody claims
them. An entry is acknowledged (``XACK``) once its ``deliver`` returned ``Ack``; a dead letter
is added to its stream and the entry acknowledged in one transaction. An entry handed back
(``Nack``, or still unsettled at close) gets an idle time of ``claim.idle``, so that the next
``XAUTOCLAIM`` of any member takes it at once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import redis

from spine_core.messages import Ack, DeadLetter, IncomingMessage, OutgoingMessage, Settlement, Subscription

from .config import RedisSettings
from .delivery import Lanes
from .publisher import HEADER, KEY, VALUE, entry_fields

log = logging.getLogger("spine.redis")

BLOCK_MS = 500
"""How long one ``XREADGROUP`` waits for new entries: the reader's tick."""
RECLAIM_EVERY = 1.0
"""Seconds between two ``XAUTOCLAIM`` rounds (an entry handed back waits about this long)."""
REMIND_EVERY = 30.0
"""Seconds between two log lines saying Redis is still away."""
MAX_BACKOFF = 5.0


class Outage:
    """Logs that Redis went away once, a reminder at most every ``REMIND_EVERY`` s, and its return."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.error = ""
        self._since: float | None = None
        self._reminded = 0.0

    def down(self, error: Exception) -> None:
        now, self.error = time.monotonic(), f"{type(error).__name__}: {error}"
        if self._since is None:
            self._since = self._reminded = now
            log.warning("%s: Redis went away (%s); retrying", self.what, self.error)
        elif now - self._reminded >= REMIND_EVERY:
            self._reminded = now
            log.warning("%s: Redis still away after %.0fs (%s)", self.what, now - self._since, self.error)

    def up(self) -> None:
        if self._since is not None:
            log.info("%s: Redis is back after %.1fs", self.what, time.monotonic() - self._since)
            self._since, self.error = None, ""


class Consumer:
    """One member, named ``<host>-<pid>-<random>``, of group ``group_id`` on every subscription's stream."""

    def __init__(self, settings: RedisSettings, group_id: str, subscriptions: Sequence[Subscription]) -> None:
        self._settings = settings
        self._group = group_id
        self._subscriptions = {s.topic: s for s in subscriptions}
        self.name = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._client = settings.client(BLOCK_MS / 1000 + 5.0, retries=0)
        self._idle_ms = int(settings.claim_idle * 1000)
        self._held: dict[str, set[str]] = {topic: set() for topic in self._subscriptions}
        """Entry ids read and not settled yet, by stream: this member keeps them from being claimed."""
        self._cursors = {topic: "0-0" for topic in self._subscriptions}
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._closed = False
        self._outage = Outage(f"redis group {group_id!r}")
        self.consuming = False
        self._lanes = Lanes(settings.workers, self._settle, f"spine-redis-{group_id}")
        self._thread = threading.Thread(target=self._run, name=f"spine-redis-{group_id}", daemon=True)

    @property
    def last_error(self) -> str:
        return self._outage.error or "starting"

    def start(self, timeout: float) -> None:
        """Start reading; wait up to ``timeout`` for the groups (reading starts later if Redis is away)."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.consuming and time.monotonic() < deadline and self._thread.is_alive():
            time.sleep(0.02)
        if not self.consuming:
            log.warning("redis group %r is not consuming yet: %s", self._group, self.last_error)

    def lag(self, client: redis.Redis) -> dict[tuple[str, int], int]:
        """Entries of each stream not yet delivered to the group plus those pending, keyed ``(topic, 0)``."""
        lags = {}
        for topic in self._subscriptions:
            for info in client.xinfo_groups(topic):
                if _text(info["name"]) == self._group and info.get("lag") is not None:
                    lags[(topic, 0)] = int(info["lag"]) + int(info["pending"])
        return lags

    def close(self, timeout: float) -> None:
        """Stop reading, wait up to ``timeout`` for ``deliver`` calls in flight and settle them;
        hand back what is left (the next member claims it at once)."""
        deadline = time.monotonic() + timeout
        self._stop.set()
        self._thread.join(max(1.0, deadline - time.monotonic()))
        if not self._lanes.stop(deadline):
            log.warning("shutdown timeout: messages still being handled are left for the group's next member")
        with self._cond:
            self._closed = True
            left: dict[str, list[Any]] = {topic: list(ids) for topic, ids in self._held.items() if ids}
        try:
            for topic, ids in left.items():
                self._release(topic, ids)
            for topic in self._subscriptions:  # a member without pending entries leaves no trace
                if not left and not self._thread.is_alive() and not self._client.xpending_range(
                        topic, self._group, "-", "+", 1, consumername=self.name):
                    self._client.xgroup_delconsumer(topic, self._group, self.name)
        except redis.RedisError as e:
            log.warning("redis group %r: could not hand back %d stream(s) of entries at close: %s",
                        self._group, len(left), e)
        self._client.close()

    # -- reader thread ------------------------------------------------------------

    def _run(self) -> None:
        backoff, next_reclaim, next_beat = 0.1, 0.0, 0.0
        while not self._stop.is_set():
            try:
                if not self.consuming:
                    self._create_groups()
                now = time.monotonic()
                if now >= next_beat:
                    self._heartbeat()
                    next_beat = now + self._settings.claim_idle / 3
                if now >= next_reclaim:
                    self._reclaim()
                    next_reclaim = now + RECLAIM_EVERY
                self._read()
                self._outage.up()
                backoff = 0.1
            except redis.RedisError as e:
                self.consuming = False
                if isinstance(e, redis.ResponseError) and str(e).startswith("NOGROUP"):
                    log.warning("redis group %r vanished (Redis restarted or a stream was deleted); "
                                "creating it again", self._group)
                    continue
                self._outage.down(e)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)

    def _create_groups(self) -> None:
        for topic in self._subscriptions:
            try:  # from the stream's start: entries added while the group was missing are read too
                self._client.xgroup_create(topic, self._group, id="0", mkstream=True)
            except redis.ResponseError as e:
                if not str(e).startswith("BUSYGROUP"):
                    raise
        self.consuming = True
        log.info("redis group %r consuming %s as %s", self._group, ", ".join(self._subscriptions), self.name)

    def _room(self) -> int:
        with self._cond:
            return self._settings.max_pending - sum(len(ids) for ids in self._held.values())

    def _read(self) -> None:
        room = self._room()
        if room <= 0:
            with self._cond:
                self._cond.wait(BLOCK_MS / 1000)
            return
        streams: dict[Any, Any] = {topic: ">" for topic in self._subscriptions}
        reply: Any = self._client.xreadgroup(self._group, self.name, streams, count=min(room, self._settings.batch),
                                             block=BLOCK_MS)
        for stream, entries in reply or []:
            self._take(_text(stream), entries)

    def _reclaim(self) -> None:
        for topic in self._subscriptions:
            if self._room() <= 0:
                return
            reply: list[Any] = self._client.xautoclaim(
                topic, self._group, self.name, self._idle_ms, self._cursors[topic], count=self._settings.batch)
            self._cursors[topic] = _text(reply[0])
            self._take(topic, reply[1])

    def _heartbeat(self) -> None:
        with self._cond:
            held: dict[str, list[Any]] = {topic: list(ids) for topic, ids in self._held.items() if ids}
        for topic, ids in held.items():
            self._client.xclaim(topic, self._group, self.name, 0, ids, justid=True)

    def _take(self, topic: str, entries: list[tuple[bytes, dict[bytes, bytes] | None]]) -> None:
        subscription = self._subscriptions[topic]
        for raw_id, fields in entries:
            entry_id = _text(raw_id)
            with self._cond:
                if fields is None or entry_id in self._held[topic]:
                    continue
                self._held[topic].add(entry_id)
            self._lanes.put(subscription, incoming(topic, entry_id, fields))

    # -- worker threads -----------------------------------------------------------

    def _settle(self, message: IncomingMessage, settlement: Settlement) -> None:
        topic, entry_id = message.topic, message.position["entry-id"]
        with self._cond:
            if self._closed:
                return
        try:
            if isinstance(settlement, Ack):
                self._client.xack(topic, self._group, entry_id)
            elif isinstance(settlement, DeadLetter):
                letter = OutgoingMessage(settlement.topic, message.value, message.key,
                                         {**message.headers, **settlement.reason})
                pipe = self._client.pipeline(transaction=True)
                pipe.xadd(settlement.topic, entry_fields(letter),  # type: ignore[arg-type]
                          maxlen=self._settings.maxlen or None, approximate=True)
                pipe.xack(topic, self._group, entry_id)
                pipe.execute()
            else:
                self._release(topic, [entry_id])
        except redis.RedisError as e:
            log.error("redis group %r could not settle %s %s (%s); it is redelivered after claim.idle",
                      self._group, topic, entry_id, e)
        finally:
            with self._cond:
                self._held[topic].discard(entry_id)
                self._cond.notify_all()

    def _release(self, topic: str, ids: list[Any]) -> None:
        """Hand entries back: idle for ``claim.idle`` already, the next ``XAUTOCLAIM`` takes them."""
        self._client.xclaim(topic, self._group, self.name, 0, ids, idle=self._idle_ms, justid=True)


def incoming(topic: str, entry_id: str, fields: Mapping[bytes, bytes]) -> IncomingMessage:
    """The message of a stream entry written by :func:`~spine_redis.publisher.entry_fields`."""
    headers = {_text(name[len(HEADER):]): _text(value)
               for name, value in fields.items() if name.startswith(HEADER)}
    key = fields.get(KEY)
    return IncomingMessage(topic, fields.get(VALUE, b""), None if key is None else _text(key), headers,
                           {"entry-id": entry_id})


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
