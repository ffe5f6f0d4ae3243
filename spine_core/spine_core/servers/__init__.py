"""The HTTP servers a Service can run its WSGI app on: waitress (the default) or granian.

Each one serves on a listening socket Spine bound (so that worker processes can share it),
in background threads, and stops in three steps that the Service interleaves with the
broker's shutdown: stop accepting, drain the requests in flight, close.
"""

from __future__ import annotations

import socket

from ..errors import BootError
from ..options import HTTPOptions
from .base import NAMES, HTTPServer, WSGIApp


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
