"""waitress configured from ``HTTPOptions``: connection and body limits, a deadline for a request's
head, and waitress's own error answers (400, 413, 431...) as JSON like every other error."""

from __future__ import annotations

import json
import select
import threading
from collections import deque
from typing import Any

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.task import ErrorTask

from ..options import HTTPOptions


class JSONErrorTask(ErrorTask):  # type: ignore[misc]
    """waitress's answer to a request it refused before the app saw it, as ``{"message": ...}``."""

    def execute(self) -> None:
        error = self.request.error
        adj = self.channel.server.adj
        if error.code == 413:  # waitress's limit is one above Spine's (it refuses a body that reaches it)
            message = f"request body exceeds the limit of {adj.max_request_body_size - 1} bytes"
        elif error.code == 431:
            message = f"request head exceeds the limit of {adj.max_request_header_size} bytes"
        else:
            message = f"{error.reason}: {error.body}"
        body = json.dumps({"message": message}).encode()
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class SpineChannel(HTTPChannel):  # type: ignore[misc]
    """A connection whose refused requests are answered in JSON, and whose request head must
    arrive within ``channel_timeout`` of its first byte: waitress closes a connection idle for
    that long, and here a head sent a byte at a time counts as idle since it began."""

    error_task_class = JSONErrorTask
    last_activity: float
    head_started = 0.0

    def received(self, data: bytes) -> bool:
        if self.request is None:
            self.head_started = self.last_activity
        result: bool = super().received(data)
        request = self.request
        if request is not None and not request.headers_finished:
            self.last_activity = self.head_started
        return result

    def service(self) -> None:
        """Run a request in a worker thread; what it changes is announced to :class:`EventLoop`."""
        serving.channel = self
        try:
            super().service()
        finally:
            serving.channel = None

    def add_channel(self, map: Any = None) -> None:
        super().add_channel(map)
        loop: EventLoop | None = getattr(self.server, "spine_loop", None)
        if loop is not None:
            loop.changed.append(self)

    def del_channel(self, map: Any = None) -> None:
        loop: EventLoop | None = getattr(self.server, "spine_loop", None)
        if loop is not None:
            loop.forget(self)
        super().del_channel(map)


ACCEPT_BATCH = 256
"""At most this many connections accepted in one wake-up."""

LAZY = select.EPOLLIN | select.EPOLLPRI
"""The read interest of a connection."""

serving = threading.local()
"""The channel whose request the current worker thread runs (``channel``), if any."""


class EventLoop:
    """waitress's socket loop at a cost per event, not per connection.

    waitress's own loop (``wasyncore.poll2``) builds a new ``poll`` set on every wake-up: it asks
    every connection whether it is ``readable()`` and ``writable()`` and registers it again, in
    Python, holding the GIL. It wakes up at least once per request (a worker pulls the trigger
    when a response is ready), so with N keep-alive connections each request costs O(N) of the
    loop thread's time: at 1,000 connections the loop spends its GIL share re-registering idle
    sockets, reads and sends fall behind, and requests wait seconds in the socket buffers.

    This loop keeps one ``epoll`` registration per connection and asks a connection again only
    when it may have changed: after its own events were handled, when it was just accepted,
    or when a worker running its request pulled the trigger (``serving`` names that channel).
    Anything else that pulls the trigger (shutdown, the cleanup of idle connections) makes the
    next wake-up ask every connection, as waitress does. Events are dispatched by waitress's
    own ``readwrite``, so a connection behaves exactly as under ``waitress.serve``.
    """

    def __init__(self, server: Any) -> None:
        self.server = server
        self.map: dict[int, Any] = server._map
        self.changed: deque[Any] = deque()
        self.rescan = True
        self._epoll = select.epoll()
        self._registered: dict[int, tuple[Any, int]] = {}
        self._trigger = server.trigger
        self._cleanup_seen = server.next_channel_cleanup
        server.spine_loop = self
        server.pull_trigger = self.pull_trigger
        for obj in (server, server.trigger):  # connections do this in SpineChannel.del_channel
            obj.del_channel = self._forgetting(obj)

    def _forgetting(self, obj: Any) -> Any:
        del_channel = obj.del_channel

        def forget_then_delete(map: Any = None) -> None:
            self.forget(obj)
            del_channel(map)
        return forget_then_delete

    def forget(self, obj: Any) -> None:
        """Stop watching ``obj``, about to be closed. Closing a socket drops it from the epoll set
        only once no other descriptor refers to it: a worker process shares the listening socket
        with its supervisor, and a closed descriptor left registered would be reported forever."""
        fd = obj._fileno
        known = self._registered.get(fd) if fd is not None else None
        if fd is not None and known is not None and known[0] is obj:
            del self._registered[fd]
            try:
                self._epoll.unregister(fd)
            except (OSError, ValueError):  # ValueError: the loop has ended and closed its epoll
                pass

    def pull_trigger(self) -> None:
        """Wake the loop, naming the channel a worker changed (any other caller: ask every one)."""
        channel = getattr(serving, "channel", None)
        if channel is None:
            self.rescan = True
        else:
            self.changed.append(channel)
        self._trigger.pull_trigger()

    def wake(self, thunk: Any) -> None:
        """Run ``thunk`` in the loop thread, then ask every connection again."""
        self.rescan = True
        self._trigger.pull_trigger(thunk)

    def run(self) -> None:
        timeout = self.server.adj.asyncore_loop_timeout
        ready: list[Any] = []
        try:
            while self.map:
                ready = self._poll(timeout, ready)
        except (SystemExit, KeyboardInterrupt):  # as waitress's own run()
            self.server.task_dispatcher.shutdown()
        finally:
            self._epoll.close()

    def _poll(self, timeout: float, ready: list[Any]) -> list[Any]:
        server, changed = self.server, self.changed
        self._update(server)  # its readable() also closes idle connections, every cleanup_interval
        if self.rescan or server.next_channel_cleanup != self._cleanup_seen:
            self._cleanup_seen = server.next_channel_cleanup
            self.rescan = False
            changed.clear()
            self._forget_closed()
            for obj in list(self.map.values()):
                self._update(obj)
        else:
            for obj in ready:
                self._update(obj)
            while changed:
                self._update(changed.popleft())
        ready = []
        for fd, flags in self._epoll.poll(timeout):
            obj = self.map.get(fd)
            if obj is None:
                continue
            if flags & LAZY and not obj.readable():  # read interest kept lazily: drop it now
                flags &= ~LAZY
                self._watch(fd, obj, self._wanted(obj))
            if obj is server:
                self._accept_all()
            elif flags:
                wasyncore.readwrite(obj, flags)
            ready.append(obj)
        return ready

    def _accept_all(self) -> None:
        """Accept every connection waiting in the backlog (up to the connection limit), not one
        per wake-up as waitress does: under load a wake-up costs milliseconds of waiting for the
        GIL, and a client whose connection waits in the backlog meanwhile has its request unread."""
        server, map = self.server, self.map
        for _ in range(ACCEPT_BATCH):
            before = len(map)
            wasyncore.read(server)
            if len(map) == before or not server.readable():
                return

    def _open(self, obj: Any) -> int | None:
        """``obj``'s descriptor, or None once it is closed."""
        fd: int | None = obj._fileno
        return fd if fd is not None and self.map.get(fd) is obj else None

    @staticmethod
    def _wanted(obj: Any) -> int:
        flags = LAZY if obj.readable() else 0
        if obj.writable() and not obj.accepting:
            flags |= select.EPOLLOUT
        return flags

    def _update(self, obj: Any) -> None:
        """Bring ``obj``'s registration up to date; output waiting is sent at once, since a
        socket is nearly always writable (only what the socket did not take waits for EPOLLOUT).
        Read interest is kept while a request runs (a keep-alive client sends nothing then) and
        dropped only if the socket does become readable, so a request costs no ``epoll_ctl``."""
        fd = self._open(obj)
        if fd is None:
            return
        want = self._wanted(obj)
        if want & select.EPOLLOUT:
            wasyncore.write(obj)
            if self._open(obj) is None:  # closed after its last answer
                return
            want = self._wanted(obj)
        known = self._registered.get(fd)
        if known is not None and known[0] is obj and (known[1] == want or known[1] == want | LAZY):
            return
        self._watch(fd, obj, want)

    def _watch(self, fd: int, obj: Any, flags: int) -> None:
        known = self._registered.get(fd)
        if known is not None and known[0] is obj:
            if flags:
                self._epoll.modify(fd, flags)
                self._registered[fd] = (obj, flags)
            else:  # as poll2: a connection wanting nothing is not watched (not even for a hang-up)
                self._epoll.unregister(fd)
                del self._registered[fd]
            return
        if known is not None:  # the descriptor of a closed connection, reused: epoll dropped it on close
            del self._registered[fd]
        if flags:
            try:
                self._epoll.register(fd, flags)
            except FileExistsError:
                self._epoll.modify(fd, flags)
            self._registered[fd] = (obj, flags)

    def _forget_closed(self) -> None:
        for fd, (obj, _) in list(self._registered.items()):
            if self.map.get(fd) is not obj:
                del self._registered[fd]


MAP_OVERHEAD = 2
"""Entries of waitress's socket map that are not connections: the listening socket, the trigger."""


def waitress_arguments(http: HTTPOptions) -> dict[str, Any]:
    """The waitress settings of ``http``: waitress itself refuses a body larger than any limit
    (413, by Content-Length before reading, and while reading a chunked one); ``poll`` has no
    ceiling on file descriptors, where ``select`` stops at 1024."""
    return {
        "threads": http.threads,
        # waitress counts the entries of its socket map, where its listening socket and its
        # trigger take two: without them, 1,000 clients would find only 998 connections served.
        "connection_limit": http.connection_limit + MAP_OVERHEAD,
        "channel_timeout": http.channel_timeout,
        "cleanup_interval": http.cleanup_interval,
        "max_request_body_size": max(http.max_body_size, http.max_upload_size) + 1,
        "asyncore_use_poll": True,
    }


def use_spine_channels(server: Any) -> EventLoop:
    """Make ``server`` (from ``waitress.create_server``) open :class:`SpineChannel` connections,
    served by an :class:`EventLoop` (its ``run`` replaces the server's)."""
    server.channel_class = SpineChannel
    return EventLoop(server)
