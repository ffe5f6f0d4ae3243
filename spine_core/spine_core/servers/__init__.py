"""The HTTP servers a Service can run its WSGI app on: waitress (the default) or granian.

Each one serves on a listening socket Spine bound (so that worker processes can share it),
in background threads, and stops in three steps that the Service interleaves with the
broker's shutdown: stop accepting, drain the requests in flight, close.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from ..errors import BootError
from ..options import Address, HTTPOptions

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
NAMES = ("waitress", "granian")
BACKLOG = 1024


class HTTPServer(Protocol):
    """A WSGI server serving in background threads on a socket it was given."""

    def start(self) -> None:
        """Serve in background threads; return at once."""

    def stop_accepting(self) -> None:
        """Refuse new connections from now on; requests in flight go on."""

    def drain(self, deadline: float) -> bool:
        """Wait until every response produced was sent or ``deadline`` (monotonic) passed."""

    def close(self, deadline: float) -> None:
        """Close every connection and the listening socket, and end the server's threads
        (also when it never started)."""


def listen(address: Address) -> socket.socket:
    """A listening TCP socket on ``address`` (a busy port or a bad host is an OSError here)."""
    family = socket.AF_INET6 if ":" in address.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address.host, address.port))
        sock.listen(BACKLOG)
    except BaseException:
        sock.close()
        raise
    return sock


def create(options: HTTPOptions, app: WSGIApp, sock: socket.socket) -> HTTPServer:
    """The server ``options.server`` for ``app`` on ``sock``, with ``options.threads`` request threads."""
    name = options.server
    if name == "waitress":
        from .waitress_server import WaitressServer

        return WaitressServer(app, sock, options)
    if name == "granian":
        try:
            from .granian_server import GranianServer
        except ImportError as e:
            raise BootError(f"server 'granian' needs granian: pip install 'spine-core[granian]' ({e})") from None
        return GranianServer(app, sock, options.threads, max(options.max_upload_size, options.max_body_size))
    raise BootError(f"unknown HTTP server {name!r}: choose one of {', '.join(NAMES)}")
