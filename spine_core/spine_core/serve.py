"""Serving: waitress in a thread, the broker's consumers, signals and graceful shutdown."""

from __future__ import annotations

import logging
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import waitress
from waitress import wasyncore
from waitress.channel import HTTPChannel

from .http.server import use_spine_channels, waitress_arguments
from .options import Address
from .runtime import Runtime

log = logging.getLogger("spine")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class InFlight:
    """WSGI middleware that counts requests being handled and refuses new ones while draining."""

    def __init__(self, app: WSGIApp) -> None:
        self._app = app
        self._count = 0
        self._idle = threading.Condition()
        self.draining = False

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with self._idle:
            if self.draining:
                # No "Connection: close": a WSGI app may not send hop-by-hop headers (PEP 3333).
                start_response("503 Service Unavailable", [("Content-Type", "application/json")])
                return [b'{"message":"shutting down"}']
            self._count += 1
        try:
            return self._app(environ, start_response)
        finally:
            with self._idle:
                self._count -= 1
                if not self._count:
                    self._idle.notify_all()

    def wait_idle(self, deadline: float) -> bool:
        """Wait until no request is in flight or ``deadline`` (monotonic) passed."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._count, max(0.0, deadline - time.monotonic()))


def quiet_waitress_queue() -> None:
    """waitress logs a warning for every request that waits for a thread ("Task queue depth
    is N"): under load, a log line per request, which costs CPU where it hurts. Unless the
    application set that logger's level, only its errors are logged."""
    queue_log = logging.getLogger("waitress.queue")
    if queue_log.level == logging.NOTSET:
        queue_log.setLevel(logging.ERROR)


class Service:
    """A started app: its broker consuming and, with HTTP options, waitress serving."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._inflight: InFlight | None = None

    @property
    def port(self) -> int | None:
        """The bound HTTP port (useful with ``:0``), or None without HTTP."""
        return self._server.effective_port if self._server is not None else None

    def start(self) -> Service:
        options = self.runtime.options
        if self.runtime.wsgi is not None and options.http is not None:
            # Bind first: a bad address or a busy port must fail before consumers start.
            address = Address.parse(options.address)
            self._inflight = InFlight(self.runtime.wsgi)
            quiet_waitress_queue()
            self._server = waitress.create_server(
                self._inflight, host=address.host, port=address.port, ident="spine",
                clear_untrusted_proxy_headers=True, **waitress_arguments(options.http),
            )
            use_spine_channels(self._server)
        try:
            self.runtime.start()
        except BaseException:
            if self._server is not None:
                self._server.close()
            raise
        if self._server is not None:
            self._thread = threading.Thread(target=self._server.run, name="spine-http", daemon=True)
            self._thread.start()
            log.info("listening on http://%s:%s", address.host, self.port)
        return self

    def stop(self, timeout: float | None = None) -> None:
        """Stop accepting, finish in-flight requests and messages, close the broker.

        Everything shares one deadline: ``timeout`` or the options' ``shutdown_timeout``.
        """
        options = self.runtime.options
        if timeout is None:
            timeout = options.shutdown_timeout if options.enable_graceful_shutdown else 0.0
        deadline = time.monotonic() + timeout
        if self._server is not None and self._inflight is not None:
            server = self._server
            server.accepting = False
            # Close the listening socket in waitress's loop thread: new connections are refused at once.
            server.trigger.pull_trigger(lambda: wasyncore.dispatcher.close(server))
            self._inflight.draining = True
            if not self._inflight.wait_idle(deadline):
                log.warning("shutdown timeout: HTTP requests still in flight")
            self._wait_flushed(deadline)
        self.runtime.close(max(0.0, deadline - time.monotonic()))
        if self._server is not None:
            server, self._server = self._server, None
            server.task_dispatcher.shutdown(timeout=max(0.0, deadline - time.monotonic()))
            # Close every socket, idle keep-alive ones included, in the loop thread, so it ends now.
            server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
            if self._thread is not None:
                self._thread.join(timeout=max(0.1, deadline - time.monotonic()))

    def _wait_flushed(self, deadline: float) -> None:
        """Let waitress send the responses already produced before its sockets close."""
        channels = [c for c in list(self._server._map.values()) if isinstance(c, HTTPChannel)]
        while time.monotonic() < deadline and any(c.requests or c.total_outbufs_len for c in channels):
            time.sleep(0.005)


def wait_for_signal() -> int:
    """Block the main thread until SIGINT or SIGTERM arrives; return its number.

    The handlers only write to a socket (``signal.set_wakeup_fd``): a handler
    that took a lock could deadlock with the code it interrupted.
    """
    receiver, sender = socket.socketpair()
    sender.setblocking(False)
    previous = signal.set_wakeup_fd(sender.fileno())
    handlers = {sig: signal.signal(sig, lambda signum, frame: None) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return receiver.recv(1)[0]
    finally:
        signal.set_wakeup_fd(previous)
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        receiver.close()
        sender.close()


def run_until_signal(services: list[Service]) -> None:
    """Start ``services``, wait for SIGINT or SIGTERM, then stop them all gracefully."""
    started = []
    try:
        for service in services:
            started.append(service.start())
        signum = wait_for_signal()
        log.info("%s received: shutting down", signal.Signals(signum).name)
    finally:
        for service in reversed(started):
            service.stop()
    log.info("stopped")
