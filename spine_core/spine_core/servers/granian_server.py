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
import os
import socket
import threading
import time
from typing import Any

import granian._futures
import granian._granian
import granian.wsgi

from . import BACKLOG, WSGIApp

native: Any = granian._granian  # its stub file lags behind the extension: called with keywords, untyped
futures: Any = granian._futures

RUNTIME_THREADS = 1
"""Rust threads doing the network I/O; granian's default, and more do not help (its docs)."""


class GranianServer:
    """granian's WSGI worker on a bound socket; ``threads`` Python threads run the app."""

    def __init__(self, app: WSGIApp, sock: socket.socket, threads: int) -> None:
        self._sock = sock
        # granian owns (and closes) the descriptor it is given: a duplicate, so ours stays valid.
        holder = native.SocketHolder(os.dup(sock.fileno()), False, BACKLOG)
        self._worker = native.WSGIWorker(
            worker_id=1, sock=(None, holder), ipc=None, threads=RUNTIME_THREADS, py_threads=threads,
            backpressure=BACKLOG, http_mode="1",
        )
        self._loop = asyncio.new_event_loop()  # required by the scheduler; WSGI calls never run on it
        callback = granian.wsgi._callback_wrapper(app, {}, None)
        self._scheduler = futures._new_cbscheduler(self._loop, callback, impl_asyncio=True)
        self._signal = native.WorkerSignal()
        self._stopped = threading.Event()
        self._signal.add_cb(self._stopped.set)

    def start(self) -> None:
        self._worker.serve_mtr(self._scheduler, self._loop, self._signal)

    def stop_accepting(self) -> None:
        self._signal.set()
        self._sock.close()

    def drain(self, deadline: float) -> bool:
        return self._stopped.wait(max(0.0, deadline - time.monotonic()))

    def close(self, deadline: float) -> None:
        self.drain(deadline)
        self._loop.close()
