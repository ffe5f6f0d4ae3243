"""waitress: an asyncore loop thread accepting and writing, a pool of threads running the app."""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any

import waitress
from waitress import wasyncore
from waitress.channel import HTTPChannel

from ..http.server import use_spine_channels, waitress_arguments
from ..options import HTTPOptions
from .base import WSGIApp


def quiet_waitress_queue() -> None:
    """waitress logs a warning for every request that waits for a thread ("Task queue depth
    is N"): under load, a log line per request, which costs CPU where it hurts. Unless the
    application set that logger's level, only its errors are logged."""
    queue_log = logging.getLogger("waitress.queue")
    if queue_log.level == logging.NOTSET:
        queue_log.setLevel(logging.ERROR)


class WaitressServer:
    """waitress on a bound socket; its loop runs in the ``spine-http`` thread."""

    def __init__(self, app: WSGIApp, sock: socket.socket, http: HTTPOptions) -> None:
        quiet_waitress_queue()
        self.server: Any = waitress.create_server(
            app, sockets=[sock], ident="spine", clear_untrusted_proxy_headers=True, **waitress_arguments(http),
        )
        self._loop = use_spine_channels(self.server)
        self._thread = threading.Thread(target=self._loop.run, name="spine-http", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop_accepting(self) -> None:
        server = self.server
        server.accepting = False
        # Close the listening socket in waitress's loop thread: new connections are refused at once.
        self._loop.wake(lambda: wasyncore.dispatcher.close(server))

    def drain(self, deadline: float) -> bool:
        """Let waitress send the responses already produced before its sockets close."""
        channels = [c for c in list(self.server._map.values()) if isinstance(c, HTTPChannel)]
        while any(c.requests or c.total_outbufs_len for c in channels):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)
        return True

    def close(self, deadline: float) -> None:
        server = self.server
        server.task_dispatcher.shutdown(timeout=max(0.0, deadline - time.monotonic()))
        if not self._thread.is_alive():  # never started (or already ended): no loop thread to do it
            wasyncore.close_all(server._map)
            return
        # Close every socket, idle keep-alive ones included, in the loop thread, so it ends now.
        try:
            self._loop.wake(lambda: wasyncore.close_all(server._map))
        except OSError:  # the loop ended in between and closed its trigger: nobody else closes them
            wasyncore.close_all(server._map)
            return
        if self._thread.is_alive():
            self._thread.join(timeout=max(0.1, deadline - time.monotonic()))
