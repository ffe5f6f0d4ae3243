"""Consuming: one member of a Redis consumer group over one stream per subscribed topic.

The reader thread owns the topology (``XGROUP CREATE ... MKSTREAM``, again whenever the group
vanished, e.g. after a Redis restart), reads new entries with ``XREADGROUP`` and claims entries
that stayed pending with a silent member for ``claim.idle`` seconds (``XAUTOCLAIM``); it hands
them to the core's delivery engine, one lane per key. The settler thread takes the settlements
from the workers (a :class:`~spine_core.broker.ThreadHandoff`), acknowledges the settled
entries (``XACK``, in batches), hands back the others (``XCLAIM ... IDLE``, so that the next
``XAUTOCLAIM`` of any member takes them after ``ReadOptions.redelivery_delay``) and keeps the
idle time of the entries this member still holds low, so that nobody claims them.

A member that stops gracefully leaves the group; one that crashed is removed by the others
(``XGROUP DELCONSUMER``) once its entries were claimed from it and it has been silent for
``claim.idle`` seconds, so the group does not collect the names of dead members.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import redis

from spine_core.broker import (
    IncomingMessage, Lanes, OutgoingMessage, Outage, Outcome, Subscription, ThreadHandoff, as_text, text_headers,
)

from .config import RedisSettings
from .publisher import HEADER, KEY, VALUE

log = logging.getLogger("spine.redis")

BLOCK_MS = 500
"""How long one ``XREADGROUP`` waits for new entries: the reader's tick."""
RECLAIM_EVERY = 0.5
"""Seconds between two ``XAUTOCLAIM`` rounds."""
MAX_BACKOFF = 5.0

PRUNE = """
local gone = {}
for _, member in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local info = {}
  for i = 1, #member, 2 do info[member[i]] = member[i + 1] end
  if info['name'] ~= ARGV[2] and info['pending'] == 0 and info['idle'] >= tonumber(ARGV[3]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info['name'])
    gone[#gone + 1] = info['name']
  end
end
return gone
"""
"""Remove the group's members (but this one) that hold no entry and were silent for ARGV[3] ms.
One script, so that no member can read an entry between the check and ``DELCONSUMER`` (which
would drop the entry from the pending list); a live member that was removed all the same is
added again by its next ``XREADGROUP``."""

Entry = tuple[str, str, Mapping[bytes, bytes]]
"""A stream entry read: its stream (the topic), its id and its fields."""
Settled = tuple[str, str, Outcome]
"""A settled entry: its stream, its id and what it came to."""


class Consumer:
    """One member, named ``<host>-<pid>-<random>``, of group ``group_id`` on every subscription's stream."""

    def __init__(self, settings: RedisSettings, group_id: str, subscriptions: Sequence[Subscription],
                 dead_letter: Callable[[OutgoingMessage], None], redelivery_delay: float) -> None:
        self._settings = settings
        self._group = group_id
        self._topics = [s.topic for s in subscriptions]
        self.name = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._client = settings.client(BLOCK_MS / 1000 + 5.0, retries=0)
        self._dead_letter = dead_letter
        self._idle_ms = int(settings.claim_idle * 1000)
        self._retry_idle_ms = max(0, int((settings.claim_idle - redelivery_delay) * 1000))
        self._lanes: Lanes[Entry] = Lanes(self, subscriptions, workers=settings.workers,
                                          max_pending=settings.max_pending, name=f"redis-{group_id}")
        self._lock = self._lanes.lock
        """The engine's lock also guards what follows."""
        self._held: dict[str, set[str]] = {topic: set() for topic in self._topics}
        """Entry ids read and not yet acknowledged or handed back, by stream."""
        self._settlements: ThreadHandoff[Settled] = ThreadHandoff(self._lock)
        self._closed = False
        self._cursors = {topic: "0-0" for topic in self._topics}
        self._prune = self._client.register_script(PRUNE)
        self._next_prune = 0.0
        self._stop, self._done = threading.Event(), threading.Event()
        self._outage = Outage("Redis", log, who=f"redis group {group_id!r}")
        self.consuming = False
        self._reader = threading.Thread(target=self._read_loop, name=f"spine-redis-{group_id}", daemon=True)
        self._settler = threading.Thread(target=self._settle_loop, name=f"spine-redis-{group_id}-acks", daemon=True)

    @property
    def last_error(self) -> str:
        return self._outage.error or "starting"

    def start(self, timeout: float) -> None:
        """Start reading; wait up to ``timeout`` for the groups (reading starts later if Redis is away)."""
        self._lanes.start()
        self._settler.start()
        self._reader.start()
        deadline = time.monotonic() + timeout
        while not self.consuming and time.monotonic() < deadline:
            time.sleep(0.02)
        if not self.consuming:
            log.warning("redis group %r is not consuming yet: %s", self._group, self.last_error)

    def lag(self, client: redis.Redis) -> dict[tuple[str, int], int]:
        """Entries of each stream not yet delivered to the group plus those pending, keyed ``(topic, 0)``."""
        lags = {}
        for topic in self._topics:
            for info in client.xinfo_groups(topic):
                if as_text(info["name"]) == self._group and info.get("lag") is not None:
                    lags[(topic, 0)] = int(info["lag"]) + int(info["pending"])
        return lags

    def close(self, timeout: float) -> None:
        """Stop reading, wait up to ``timeout`` for ``deliver`` calls in flight and settle them;
        hand back what is left (the next member claims it at once)."""
        deadline = time.monotonic() + timeout
        self._stop.set()
        self._reader.join(max(1.0, deadline - time.monotonic()))
        self._lanes.stop()
        if not self._lanes.drain(deadline):
            log.warning("redis group %r: %d message(s) still in flight at shutdown are left for the next member",
                        self._group, self._lanes.in_flight)
        with self._lock:
            self._closed = True
        self._done.set()
        self._settlements.close()
        self._settler.join(max(1.0, deadline - time.monotonic()))
        self._lanes.join(0.1)
        try:
            self._flush(self._settlements.take())
            with self._lock:
                left: dict[str, list[Any]] = {topic: list(ids) for topic, ids in self._held.items() if ids}
            for topic, ids in left.items():
                self._client.xclaim(topic, self._group, self.name, 0, ids, idle=self._idle_ms, justid=True)
            for topic in self._topics:  # a member without pending entries leaves no trace
                if not self._client.xpending_range(topic, self._group, "-", "+", 1, consumername=self.name):
                    self._client.xgroup_delconsumer(topic, self._group, self.name)
        except redis.RedisError as e:
            log.warning("redis group %r: could not hand back unsettled entries at close (%s); they are "
                        "claimed after claim.idle", self._group, e)
        self._client.close()

    # -- reader thread ------------------------------------------------------------

    def _read_loop(self) -> None:
        backoff, next_reclaim = 0.1, 0.0
        while not self._stop.is_set():
            try:
                if not self.consuming:
                    self._create_groups()
                if time.monotonic() >= next_reclaim:
                    self._reclaim()
                    next_reclaim = time.monotonic() + RECLAIM_EVERY
                self._read()
                backoff = 0.1
            except redis.RedisError as e:
                self.consuming = False
                if _no_group(e):
                    log.warning("redis group %r vanished (Redis restarted or a stream was deleted); "
                                "creating it again", self._group)
                    continue
                self._outage.down(e)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)

    def _create_groups(self) -> None:
        for topic in self._topics:
            try:  # from the stream's start: entries added while the group was missing are read too
                self._client.xgroup_create(topic, self._group, id="0", mkstream=True)
            except redis.ResponseError as e:
                if not str(e).startswith("BUSYGROUP"):
                    raise
        self._outage.up()
        self.consuming = True
        log.info("redis group %r consuming %s as %s", self._group, ", ".join(self._topics), self.name)

    def _read(self) -> None:
        room = min(self._lanes.room(BLOCK_MS / 1000), self._settings.batch)
        if room <= 0:
            return
        streams: dict[Any, Any] = {topic: ">" for topic in self._topics}
        reply: Any = self._client.xreadgroup(self._group, self.name, streams, count=room, block=BLOCK_MS)
        for stream, entries in reply or []:
            self._take(as_text(stream), entries)

    def _reclaim(self) -> None:
        for topic in self._topics:
            reply: list[Any] = self._client.xautoclaim(
                topic, self._group, self.name, self._idle_ms, self._cursors[topic], count=self._settings.batch)
            self._cursors[topic] = as_text(reply[0])
            self._take(topic, reply[1])
        if time.monotonic() >= self._next_prune:
            self._next_prune = time.monotonic() + self._settings.claim_idle / 2
            for topic in self._topics:
                gone = self._prune(keys=[topic], args=[self._group, self.name, self._idle_ms])
                if gone:
                    log.info("redis group %r: removed departed member(s) %s from %s", self._group,
                             ", ".join(as_text(n) for n in gone), topic)

    def _take(self, topic: str, entries: list[tuple[bytes, dict[bytes, bytes] | None]]) -> None:
        """Hand new entries to the engine: one lane per key (an entry without a key has its own)."""
        work: list[tuple[tuple[Any, ...], Entry]] = []
        with self._lock:
            held = self._held[topic]
            for raw_id, fields in entries:
                entry_id = as_text(raw_id)
                if fields is None or entry_id in held:  # deleted (trimmed), or still ours
                    continue
                held.add(entry_id)
                work.append(((topic, fields.get(KEY, entry_id)), (topic, entry_id, fields)))
            self._lanes.submit_locked(work)

    # -- settler thread -----------------------------------------------------------

    def _settle_loop(self) -> None:
        beat_every = self._settings.claim_idle / 3
        next_beat = time.monotonic() + beat_every
        while not self._done.is_set():
            settled = self._settlements.wait(max(0.0, next_beat - time.monotonic()))
            try:
                self._flush(settled)
                if time.monotonic() >= next_beat:
                    self._heartbeat()
                    next_beat = time.monotonic() + beat_every
            except redis.RedisError:  # the reader reports the outage
                self._done.wait(0.5)

    def _flush(self, settled: list[Settled]) -> None:
        """Acknowledge the entries settled, hand back the others; on a lost connection keep them for later."""
        if not settled:
            return
        acks: dict[str, list[str]] = {}
        retries: dict[str, list[str]] = {}
        for topic, entry_id, outcome in settled:
            (acks if outcome is Outcome.DONE else retries).setdefault(topic, []).append(entry_id)
        with self._lock:
            for topic, entry_id, _ in settled:
                self._held[topic].discard(entry_id)
        pipe = self._client.pipeline(transaction=False)
        for topic, ids in acks.items():
            pipe.xack(topic, self._group, *ids)
        for topic, ids in retries.items():
            pipe.xclaim(topic, self._group, self.name, 0, list[Any](ids), idle=self._retry_idle_ms, justid=True)
        try:
            pipe.execute()
        except redis.RedisError as e:
            if _no_group(e):
                return  # the group starts again from the stream's start: everything is read again
            with self._lock:
                for topic, entry_id, _ in settled:
                    self._held[topic].add(entry_id)
            self._settlements.put_back(settled)
            raise

    def _heartbeat(self) -> None:
        with self._lock:
            held: dict[str, list[Any]] = {topic: list(ids) for topic, ids in self._held.items() if ids}
        for topic, ids in held.items():
            self._client.xclaim(topic, self._group, self.name, 0, ids, justid=True)

    # -- the engine's port (called by its workers, under its lock where it says so) -----

    def message(self, item: Entry) -> IncomingMessage:
        return incoming(*item)

    def take(self, item: Entry) -> bool:
        return not self._closed

    def settled(self, item: Entry, outcome: Outcome) -> bool:
        if not self._closed:
            self._settlements.put((item[0], item[1], outcome))  # applied by the settler thread
        return False

    def worth_finishing(self, item: Entry) -> bool:
        return False

    def dead_letter(self, letter: OutgoingMessage) -> None:
        self._dead_letter(letter)


def incoming(topic: str, entry_id: str, fields: Mapping[bytes, bytes]) -> IncomingMessage:
    """The message of a stream entry written by :func:`~spine_redis.publisher.entry_fields`."""
    headers = text_headers((name[len(HEADER):], value) for name, value in fields.items() if name.startswith(HEADER))
    key = fields.get(KEY)
    return IncomingMessage(topic, fields.get(VALUE, b""), None if key is None else as_text(key), headers,
                           {"entry-id": entry_id})


def _no_group(error: redis.RedisError) -> bool:
    """The group (or its stream) is gone; a pipeline's error says so after its own preamble."""
    return isinstance(error, redis.ResponseError) and "NOGROUP" in str(error)
