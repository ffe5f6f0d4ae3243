"""One pika connection owned by one I/O thread, reopened with backoff whenever it is lost.

pika's connections and channels are not thread-safe: everything that touches
them runs on the I/O thread. Other threads hand it work with :meth:`call_soon`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import pika
from pika.adapters.select_connection import IOLoop, SelectConnection

from spine_core.broker import Outage, error_text

log = logging.getLogger("spine.rabbitmq")

MIN_BACKOFF = 0.1
MAX_BACKOFF = 5.0
AUTH_ERRORS = (pika.exceptions.ProbableAuthenticationError, pika.exceptions.ProbableAccessDeniedError)
CERTIFICATE_REFUSED = "CERTIFICATE_VERIFY_FAILED"
"""In a failed attempt's text: the server's certificate is not trusted (the wrong CA, or host
name); retrying will not fix it (pika wraps the SSL error in its workflow errors)."""


class JoinedWrites(SelectConnection):  # type: ignore[misc] # pika ships no type information
    """A :class:`SelectConnection` that writes what one turn of its I/O loop emits at once.

    pika hands its transport each frame on its own (a message is a method, a header and a body
    frame), and the transport sends each with a ``send()`` of its own: three TCP segments per
    message, each a read for the server. Here the frames emitted while the loop runs callbacks
    (every message the publisher flushes, every ack the consumer settles) are joined, in order,
    and written once, when the loop next turns.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._unsent: list[bytes] = []
        super().__init__(*args, **kwargs)

    def _adapter_emit_data(self, data: bytes) -> None:
        if not self._unsent:
            self.ioloop.call_later(0, self._emit_unsent)
        self._unsent.append(data)

    def _emit_unsent(self) -> None:
        data, self._unsent = b"".join(self._unsent), []
        if data and self._transport is not None:  # lost meanwhile: pika drops what it cannot send
            super()._adapter_emit_data(data)


class ConnectionLoop:
    """A :class:`SelectConnection` kept open on its own I/O thread.

    ``on_open(connection)`` runs on the I/O thread after every (re)connection;
    ``on_lost(reason)`` after every loss, before the next attempt. Attempts back
    off from 0.1 s to 5 s and go on until :meth:`close`. An outage is logged by
    :attr:`outage`: one line when it begins, reminders, one line when the connection is back.
    """

    def __init__(
        self,
        parameters: pika.URLParameters,
        name: str,
        on_open: Callable[[SelectConnection], None],
        on_lost: Callable[[str], None],
    ) -> None:
        self._parameters = parameters
        self._name = name
        self._on_open = on_open
        self._on_lost = on_lost
        self._ioloop = IOLoop()
        self._connection: SelectConnection | None = None
        self._closing = False
        self._backoff = MIN_BACKOFF
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.connected = False
        self.last_error = "not connected yet"
        self.fatal: BaseException | None = None
        """An error that retrying will not fix (bad credentials, refused vhost)."""
        self.attempted = threading.Event()
        """Set once the first connection attempt succeeded or failed."""
        self.outage = Outage("RabbitMQ", log, who=name)

    def start(self) -> None:
        self._thread.start()

    def call_soon(self, callback: Callable[[], None]) -> bool:
        """Run ``callback`` on the I/O thread; thread-safe. False once the loop has ended."""
        if not self._thread.is_alive():
            return False
        try:
            self._ioloop.add_callback_threadsafe(callback)
        except Exception:  # the loop closed between the check and the call
            return False
        return True

    def call_later(self, delay: float, callback: Callable[[], None]) -> bool:
        """Run ``callback`` on the I/O thread after ``delay`` seconds; thread-safe."""
        return self.call_soon(lambda: self._ioloop.call_later(delay, callback))

    def reopen(self, reason: str) -> None:
        """I/O thread: drop the connection (e.g. after a channel error); it is reopened with backoff."""
        self.last_error = reason
        connection = self._connection
        if connection is not None and connection.is_open:
            connection.close(reply_code=320, reply_text=reason[:200])

    def close(self, timeout: float) -> None:
        """Close the connection and end the I/O thread, waiting up to ``timeout`` seconds.

        Callbacks handed over before are run first (e.g. acks), then the connection closes.
        """
        if self.call_soon(self._shutdown):
            self._thread.join(timeout)

    def _run(self) -> None:
        self._connect()
        try:
            self._ioloop.start()
        finally:
            self._ioloop.close()

    def _connect(self) -> None:
        if self._closing:
            return
        self._connection = JoinedWrites(
            self._parameters,
            on_open_callback=self._opened,
            on_open_error_callback=self._open_failed,
            on_close_callback=self._closed,
            custom_ioloop=self._ioloop,
        )

    def _opened(self, connection: SelectConnection) -> None:
        self.connected = True
        self.last_error = ""
        self._backoff = MIN_BACKOFF
        self.attempted.set()
        if self.outage.away:
            self.outage.up()
        else:
            log.info("%s: connected to RabbitMQ", self._name)
        self._on_open(connection)

    def _open_failed(self, connection: SelectConnection, error: BaseException | str) -> None:
        reason = error_text(error)
        if isinstance(error, AUTH_ERRORS) or CERTIFICATE_REFUSED in reason:
            self.fatal = error if isinstance(error, BaseException) else ConnectionError(reason)
        self.outage.down(reason)
        self.last_error = reason
        self.attempted.set()
        self._connection = None
        self._retry()

    def _closed(self, connection: SelectConnection, error: BaseException) -> None:
        self.connected = False
        self._connection = None
        if self._closing:
            self._ioloop.stop()
            return
        reason = error_text(error)
        self.last_error = reason
        self.outage.lost(reason)
        self._on_lost(reason)
        self._retry()

    def _retry(self) -> None:
        if self._closing:
            self._ioloop.stop()
            return
        self._ioloop.call_later(self._backoff, self._connect)
        self._backoff = min(self._backoff * 2, MAX_BACKOFF)

    def _shutdown(self) -> None:
        self._closing = True
        connection = self._connection
        if connection is None or connection.is_closed:
            self._ioloop.stop()
        elif not connection.is_closing:
            try:
                connection.close()
            except pika.exceptions.ConnectionWrongStateError:
                self._ioloop.stop()
