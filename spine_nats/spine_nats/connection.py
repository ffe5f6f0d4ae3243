"""The connection: nats-py's client on an asyncio loop that runs on a thread of the plugin's own.

The engine's workers and the request threads are not on that loop: they hand it coroutines
(:meth:`Connection.call`) and settlements (the toolkit's ``AsyncioHandoff``, in the consumer).
The first connection is tried again and again in the background until the server answers;
after that nats-py reconnects by itself, and the toolkit's :class:`Outage` says so in one line
when the server goes and one when it is back.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext

from spine_core.broker import BootError, Outage, error_text

from .config import NatsSettings

log = logging.getLogger("spine.nats")

T = TypeVar("T")
RECONNECT_WAIT = 0.5
"""Seconds between two attempts to reach the server (nats-py's ``reconnect_time_wait`` too)."""
CONNECT_TIMEOUT = 2.0
"""Seconds one connection attempt may take."""


class Connection:
    """One client connection of a plugin, shared by its publisher and its consumers."""

    def __init__(self, settings: NatsSettings, name: str) -> None:
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        self.outage = Outage(f"NATS {settings.address}", log)
        self.client = Client()
        self._js: JetStreamContext | None = None
        self.attempted = threading.Event()
        """Set once the first attempt to connect succeeded or failed."""
        self.fatal: str | None = None
        """Why the server refused the connection for good (credentials), if it did."""
        self._name = name
        self._thread = threading.Thread(target=self.loop.run_forever, name=f"spine-nats-{name}", daemon=True)
        self._lock = threading.Lock()
        self._closed = False
        self._connecting: asyncio.Task[None] | None = None

    @property
    def js(self) -> JetStreamContext:
        """JetStream on the connection (one context: its asynchronous publishes share one reply subscription)."""
        if self._js is None:
            raise ConnectionError(f"not connected to NATS at {self.settings.address} yet")
        return self._js

    @property
    def connected(self) -> bool:
        return self.client.is_connected

    def start(self) -> None:
        """Start the loop and connecting in the background (once; later calls do nothing)."""
        with self._lock:
            if self._thread.is_alive() or self._closed:
                return
            self._thread.start()
        self.loop.call_soon_threadsafe(self._begin)

    def _begin(self) -> None:
        self._connecting = self.loop.create_task(self._connect())

    def wait_started(self, timeout: float) -> None:
        """Wait up to ``timeout`` for the first attempt; BootError if the server refused the credentials."""
        self.attempted.wait(timeout)
        if self.fatal is not None:
            raise BootError(f"NATS at {self.settings.address} refused the connection: {self.fatal}")

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run ``coroutine`` on the loop and wait up to ``timeout`` for its result (``TimeoutError`` after)."""
        self.start()
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"no answer from NATS at {self.settings.address} within {timeout:.1f}s") from None

    def close(self, timeout: float) -> None:
        """Flush and close the connection, then stop the loop."""
        with self._lock:
            self._closed = True
            running = self._thread.is_alive()
        if not running:
            self.loop.close()
            return
        try:
            self.call(self._close(), max(0.1, timeout))
        except Exception as e:  # the server is away: nothing more to send
            log.debug("closing the NATS connection: %s", error_text(e))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(max(0.1, timeout))
        if not self._thread.is_alive():
            self.loop.close()

    async def _close(self) -> None:
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()
            await asyncio.gather(self._connecting, return_exceptions=True)
        if not self.client.is_closed:
            await self.client.close()
        others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in others:  # what is left (a settlement hand-off's task): ended before the loop stops
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    async def _connect(self) -> None:
        """Connect; nats-py tries again and again (``_error`` reports each failure) until the server
        answers, then reconnects by itself. A refusal of the credentials ends it (``fatal``)."""
        client = self.client = Client()
        try:
            await client.connect(
                self.settings.servers, name=f"spine-{self._name}", connect_timeout=int(CONNECT_TIMEOUT),
                allow_reconnect=True, max_reconnect_attempts=-1,
                reconnect_time_wait=RECONNECT_WAIT,  # type: ignore[arg-type]  # seconds; a float works
                error_cb=self._error, disconnected_cb=self._disconnected, reconnected_cb=self._reconnected,
                **self.settings.connect_options(),
            )
        except asyncio.CancelledError:
            if self.fatal is None:
                raise
            await client.close()  # refused: no more attempts
            return
        except Exception as e:  # nats-py gave up (it does not with unlimited attempts): say why
            self.fatal = error_text(e)
            self.attempted.set()
            return
        self._js = client.jetstream()
        self.outage.up()
        self.attempted.set()

    async def _error(self, error: Exception) -> None:
        if self._js is None:  # not connected yet
            if _refused(error):
                self.fatal = error_text(error)
                log.error("NATS at %s refused the connection: %s", self.settings.address, self.fatal)
                if self._connecting is not None:
                    self._connecting.cancel()
            else:
                self.outage.down(error)
            self.attempted.set()
        elif not self.client.is_connected:  # a reconnection attempt failed
            self.outage.down(error)
        elif isinstance(error, (OSError, nats.errors.UnexpectedEOF, nats.errors.StaleConnectionError)):
            self.outage.lost(error)  # the connection breaks: nats-py reconnects
        else:
            log.warning("NATS at %s: %s", self.settings.address, error_text(error))

    async def _disconnected(self) -> None:
        if not self._closed:
            self.outage.lost("disconnected")

    async def _reconnected(self) -> None:
        self.outage.up()


def _refused(error: Exception) -> bool:
    """Whether the server refused the credentials (trying again would not help)."""
    text = str(error).lower()
    return "authorization violation" in text or "authentication" in text
