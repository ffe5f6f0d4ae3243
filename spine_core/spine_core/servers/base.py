"""What every HTTP server of Spine is: the protocol the Service drives, and the socket it serves on."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from ..options import Address

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
