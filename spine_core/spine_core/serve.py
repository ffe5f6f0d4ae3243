"""Serving: the HTTP server in background threads, the broker's consumers, signals and graceful shutdown."""

from __future__ import annotations

import logging
import signal
import socket
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from .blueprint import Blueprint
from .errors import BootError
from .options import Address, HTTPOptions, Options
from .runtime import Runtime
from .servers import create
from .servers.base import HTTPServer, WSGIApp, listen

log = logging.getLogger("spine")


class InFlight:
    """WSGI middleware that counts requests being handled and refuses new ones while draining.

    PERF: no lock per request (two acquisitions of a shared lock cost each of the server's
    threads a wait under load): a request appends to ``_active`` before it reads ``draining``
    and pops once answered (both atomic), and ``wait_idle`` sets nothing but polls."""

    POLL = 0.005
    """How often ``wait_idle`` looks again, in seconds."""

    def __init__(self, app: WSGIApp) -> None:
        self._app = app
        self._active: deque[None] = deque()
        self.draining = False

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        active = self._active
        active.append(None)  # counted before draining is read: wait_idle either sees it or it is refused
        try:
            if self.draining:
                # No "Connection: close": a WSGI app may not send hop-by-hop headers (PEP 3333).
                start_response("503 Service Unavailable", [("Content-Type", "application/json")])
                return [b'{"message":"shutting down"}']
            return self._app(environ, start_response)
        finally:
            active.pop()

    def wait_idle(self, deadline: float) -> bool:
        """Wait until no request is in flight or ``deadline`` (monotonic) passed."""
        while self._active:
            if time.monotonic() >= deadline:
                return False
            time.sleep(self.POLL)
        return True


class Service:
    """A started app: its broker consuming and, with HTTP options, its HTTP server serving.

    ``sock`` is a listening socket to serve on (worker processes share their parent's);
    without one, the service binds the options' address itself. With ``OpsOptions.address``
    the health and metrics endpoints are served on a second server there (``ops_sock``, or bound).
    """

    def __init__(
        self, runtime: Runtime, sock: socket.socket | None = None, ops_sock: socket.socket | None = None
    ) -> None:
        self.runtime = runtime
        self._sock = sock
        self._ops_sock = ops_sock
        self._server: HTTPServer | None = None
        self._ops_server: HTTPServer | None = None
        self._inflight: InFlight | None = None
        self._port: int | None = None
        self.ops_port: int | None = None
        """The bound port of the operations endpoints, with ``OpsOptions.address``."""

    @classmethod
    def of(cls, app: Blueprint, options: Options, broker: object | None = None) -> Service:
        """A service of ``app`` under ``options`` exactly as given (no ``SPINE_*`` environment applied),
        not started: for several services in one process (:func:`run_until_signal`)."""
        return cls(Runtime(app, options, broker))

    @property
    def port(self) -> int | None:
        """The bound HTTP port (useful with ``:0``), or None without HTTP."""
        return self._port if self._server is not None else None

    def start(self) -> Service:
        options = self.runtime.options
        http = options.http
        host = ""
        if self.runtime.wsgi is not None and http is not None:
            # Bind first: a bad address or a busy port must fail before consumers start.
            sock = self._sock or _listen(options.address)
            try:
                self._inflight = InFlight(self.runtime.wsgi)
                self._server = create(http, self._inflight, sock)
            except BaseException:
                sock.close()
                raise
            host, self._port = sock.getsockname()[:2]
        ops_host = ""
        if self.runtime.ops_wsgi is not None and options.ops.address is not None:
            ops_sock = self._ops_sock or _listen(options.ops.address)
            try:
                self._ops_server = create(http or HTTPOptions(threads=2), self.runtime.ops_wsgi, ops_sock)
            except BaseException:
                ops_sock.close()
                self._close_servers()
                raise
            ops_host, self.ops_port = ops_sock.getsockname()[:2]
        try:
            self.runtime.start()
        except BaseException:
            self._close_servers()
            raise
        if self._ops_server is not None:
            self._ops_server.start()  # health first: readiness says what the broker is doing
            log.info("operations endpoints on http://%s:%s", ops_host, self.ops_port)
        if self._server is not None and http is not None:
            self._server.start()
            log.info("%s listening on http://%s:%s", http.server, host, self._port)
        return self

    def _close_servers(self) -> None:
        for server in (self._server, self._ops_server):
            if server is not None:
                server.close(time.monotonic())

    def stop(self, timeout: float | None = None) -> None:
        """Stop accepting, finish in-flight requests and messages, close the broker.

        Everything shares one deadline: ``timeout`` or the options' ``shutdown_timeout``.
        """
        options = self.runtime.options
        if timeout is None:
            timeout = options.shutdown_timeout if options.enable_graceful_shutdown else 0.0
        deadline = time.monotonic() + timeout
        server, self._server = self._server, None
        if server is not None and self._inflight is not None:
            server.stop_accepting()
            self._inflight.draining = True
            if not self._inflight.wait_idle(deadline):
                log.warning("shutdown timeout: HTTP requests still in flight")
            server.drain(deadline)
        # The broker closes after the requests: each one waited for its events' confirmation.
        self.runtime.close(max(0.0, deadline - time.monotonic()))
        if server is not None:
            server.close(deadline)
        ops_server, self._ops_server = self._ops_server, None
        if ops_server is not None:  # last: readiness answers 503 "shutting down" until here
            ops_server.stop_accepting()
            ops_server.close(time.monotonic() + 1.0)


def wait_for_signal(signals: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM)) -> int:
    """Block the main thread until one of ``signals`` arrives; return its number.

    The handlers only write to a socket (``signal.set_wakeup_fd``): a handler
    that took a lock could deadlock with the code it interrupted.
    """
    receiver, sender = socket.socketpair()
    sender.setblocking(False)
    previous = signal.set_wakeup_fd(sender.fileno())
    handlers = {sig: signal.signal(sig, lambda signum, frame: None) for sig in signals}
    try:
        while True:
            signum = receiver.recv(1)[0]
            if signum in signals:
                return signum
    finally:
        signal.set_wakeup_fd(previous)
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        receiver.close()
        sender.close()


def run_until_signal(services: list[Service], ignore_repeats: bool = False) -> None:
    """Start ``services``, wait for SIGINT or SIGTERM, then stop them all gracefully.

    With ``ignore_repeats`` (a worker process, which its supervisor kills if it must),
    a second signal does not interrupt the graceful stop.
    """
    started = []
    try:
        for service in services:
            started.append(service.start())
        signum = wait_for_signal()
        log.info("%s received: shutting down", signal.Signals(signum).name)
        if ignore_repeats:
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, signal.SIG_IGN)
    finally:
        for service in reversed(started):
            service.stop()
    log.info("stopped")


def _listen(address: str) -> socket.socket:
    """The listening socket of ``address``; a busy port or a foreign address is one clear line."""
    try:
        return listen(Address.parse(address))
    except OSError as e:
        raise BootError(f"cannot listen on {address}: {e.strerror or e}") from e
