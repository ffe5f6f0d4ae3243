"""granian: its Rust HTTP worker embedded in this process, the app run on its blocking threads.

Spine does not use granian's process manager (``granian.server``): it installs its own
signal handlers, spawns worker processes that import the app by name, and knows nothing
of the broker's consumers and their drain. Spine keeps those (``serve`` and ``workers``)
and runs granian's worker, the part that serves HTTP, exactly as granian's own worker
processes do (``granian.server.mp``): a ``WSGIWorker`` on a socket, stopped by a
``WorkerSignal``. Setting the signal makes it stop listening, close idle keep-alive
connections, finish the requests in flight (hyper's graceful shutdown), then call back.
These are granian internals, so ``spine-core[granian]`` pins granian's minor version.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import granian._futures
import granian._granian
import granian.wsgi

from .base import BACKLOG, WSGIApp

native: Any = granian._granian  # its stub file lags behind the extension: called with keywords, untyped
futures: Any = granian._futures

RUNTIME_THREADS = 1
"""Rust threads doing the network I/O; granian's default, and more do not help (its docs)."""


SPOOL = 1024 * 1024
"""A buffered chunked body larger than this goes to a temporary file (as waitress does)."""


DRAIN = 64 * 1024 * 1024
"""At most this much of a body the app left unread is read and dropped after an error answer."""


class RequestBody:
    """WSGI middleware giving the app the request body as waitress does.

    waitress reads a whole body before the app runs: a body sent without Content-Length
    (chunked) is buffered and CONTENT_LENGTH set, and an error answered before the body
    was read (a 413) reaches the client. granian streams the body: a chunked one comes
    without a length, which Spine's body limits and Falcon's form parser rely on, and a
    connection closed with unread data is reset, losing the answer. So on granian a chunked
    body is buffered here first (past ``limit`` bytes: 413), and after an error answer up
    to DRAIN bytes of what was left unread are read and dropped.
    """

    def __init__(self, app: WSGIApp, limit: int) -> None:
        self._app = app
        self._limit = limit

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = environ.get("CONTENT_LENGTH")
        if length:
            return self._app(environ, start_response) if length == "0" else self._drained(environ, start_response)
        if "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            return self._app(environ, start_response)
        body = tempfile.SpooledTemporaryFile(max_size=SPOOL)
        source, size = environ["wsgi.input"], 0
        while chunk := source.read(65536):
            size += len(chunk)
            if size > self._limit:
                body.close()
                _discard(source)
                start_response("413 Payload Too Large", [("Content-Type", "application/json")])
                return [b'{"message":"request body exceeds the limit of %d bytes"}' % self._limit]
            body.write(chunk)
        body.seek(0)
        environ["wsgi.input"], environ["CONTENT_LENGTH"] = body, str(size)
        return self._app(environ, start_response)

    def _drained(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        statuses: list[str] = []

        def record(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            statuses.append(status)
            return start_response(status, headers, exc_info)

        result = self._app(environ, record)
        if statuses and statuses[-1][:1] in ("4", "5"):
            _discard(environ["wsgi.input"])
        return result


def _discard(source: Any) -> None:
    """Read and drop up to DRAIN bytes of what is left of a request body."""
    left = DRAIN
    while left > 0 and (chunk := source.read(min(65536, left))):
        left -= len(chunk)


def quiet_granian_worker() -> None:
    """granian's worker logs "Started worker-1" and "Stopping worker-1", which say nothing here:
    unless the application set that logger's level, only its warnings and errors are logged."""
    worker_log = logging.getLogger("_granian")
    if worker_log.level == logging.NOTSET:
        worker_log.setLevel(logging.WARNING)


class GranianServer:
    """granian's WSGI worker on a bound socket; ``threads`` Python threads run the app, a chunked
    request body is buffered up to ``max_body`` bytes."""

    def __init__(self, app: WSGIApp, sock: socket.socket, threads: int, max_body: int) -> None:
        quiet_granian_worker()
        self._sock = sock
        # granian owns (and closes) the descriptor it serves on: a duplicate, so ours stays valid.
        self._fd = os.dup(sock.fileno())
        self._started = False
        holder = native.SocketHolder(self._fd, False, BACKLOG)
        self._worker = native.WSGIWorker(
            worker_id=1, sock=(None, holder), ipc=None, threads=RUNTIME_THREADS, py_threads=threads,
            backpressure=BACKLOG, http_mode="1",
        )
        self._loop = asyncio.new_event_loop()  # required by the scheduler; WSGI calls never run on it
        callback = granian.wsgi._callback_wrapper(RequestBody(app, max_body), {}, None)
        self._scheduler = futures._new_cbscheduler(self._loop, callback, impl_asyncio=True)
        self._signal = native.WorkerSignal()
        self._stopped = threading.Event()
        self._signal.add_cb(self._stopped.set)

    def start(self) -> None:
        self._started = True
        self._worker.serve_mtr(self._scheduler, self._loop, self._signal)

    def stop_accepting(self) -> None:
        self._signal.set()
        self._sock.close()

    def drain(self, deadline: float) -> bool:
        return self._stopped.wait(max(0.0, deadline - time.monotonic()))

    def close(self, deadline: float) -> None:
        if self._started:
            self.drain(deadline)
        else:
            self._sock.close()
            os.close(self._fd)
        self._loop.close()
