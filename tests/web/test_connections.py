"""Hostile connections against a real served app: idle, slow-body and slow-header connections do
not lock others out; waitress's own refusals (400, 413, 431) are JSON; bodies are bounded."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator

import pytest
from attrs import evolve

from apps.http_example import create_app, options
from spine_core import HTTPOptions, Service
from spine_core.http.server import SpineChannel
from spine_core.servers.base import listen
from spine_core.servers.waitress_server import WaitressServer
from spine_core.options import Address
from spine_core.options import BrokerConfig
from spine_memory import MemoryBroker
from spine_memory.plugin import MemoryPlugin

GET = b"GET /items HTTP/1.1\r\nHost: test\r\n\r\n"


def serve(http: HTTPOptions) -> Service:
    opts = evolve(options(), address="127.0.0.1:0", http=http)
    return create_app().start(opts, broker=MemoryPlugin(BrokerConfig.from_options(opts), MemoryBroker()))


Starter = Callable[[HTTPOptions], int]


@pytest.fixture
def started() -> Iterator[Callable[[HTTPOptions], int]]:
    services: list[Service] = []

    def start(http: HTTPOptions) -> int:
        service = serve(http)
        services.append(service)
        assert service.port is not None
        return service.port

    yield start
    for service in services:
        service.stop(timeout=2.0)


def connect(port: int, timeout: float = 5.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Read one response (headers and a Content-Length body) from ``sock``."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed after {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    while len(body) < int(headers.get("content-length", "0")):
        body += sock.recv(65536)
    return int(lines[0].split()[1]), headers, body


def closed_by_server(sock: socket.socket, deadline: float) -> bool:
    """Whether the server closes ``sock`` before ``deadline`` (monotonic)."""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, min(0.2, deadline - time.monotonic())))
        try:
            if sock.recv(1024) == b"":
                return True
        except socket.timeout:
            pass
        except ConnectionError:
            return True
    return False


def test_a_request_is_answered_within_a_second_beside_600_hostile_connections(started: Starter) -> None:
    """200 idle, 200 slow-body and 200 slow-header connections held open, with the default options.
    (The measured request is the one after every hostile connection was taken in.)"""
    port = started(HTTPOptions())
    hostile = []
    try:
        for _ in range(200):
            hostile.append(connect(port))
            slow_body = connect(port)
            slow_body.sendall(b"POST /items HTTP/1.1\r\nHost: test\r\nContent-Length: 100\r\n\r\n0123456789")
            hostile.append(slow_body)
            slow_head = connect(port)
            slow_head.sendall(b"GET /items HTTP/1.1\r\nHo")
            hostile.append(slow_head)
        with connect(port) as sock:  # answered once waitress accepted every connection opened before it
            sock.sendall(GET)
            assert answer(sock)[0] == 200
        started_at = time.monotonic()
        with connect(port, timeout=1.0) as sock:
            sock.sendall(GET)
            status, _, _ = answer(sock)
        assert status == 200
        assert time.monotonic() - started_at < 1.0
    finally:
        for sock in hostile:
            sock.close()


def test_a_head_sent_a_byte_at_a_time_is_timed_out(started: Starter) -> None:
    """Each byte is activity, yet the head must be complete ``channel_timeout`` after it began."""
    port = started(HTTPOptions(channel_timeout=2, cleanup_interval=1))
    with connect(port) as slow:
        begun = time.monotonic()
        closed = False
        for byte in b"GET /items HTTP/1.1\r\nHost: test\r\nX-Pad: " + b"a" * 100:
            try:
                slow.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            if closed_by_server(slow, time.monotonic() + 0.2):
                closed = True
                break
        assert closed, "the slow head was never timed out"
        assert time.monotonic() - begun < 6.0
    with connect(port) as sock:  # a prompt client is unaffected
        sock.sendall(GET)
        assert answer(sock)[0] == 200


def test_an_idle_connection_is_closed_after_channel_timeout(started: Starter) -> None:
    port = started(HTTPOptions(channel_timeout=1, cleanup_interval=1))
    with connect(port) as idle:
        assert closed_by_server(idle, time.monotonic() + 5.0)


@pytest.mark.parametrize("request_bytes, status, message", [
    (b"GET /items HTTP/1.1\r\nHost: test\r\nX-Big: " + b"a" * 300_000 + b"\r\n\r\n", 431,
     "request head exceeds the limit of 262144 bytes"),
    (b"GET /items HTTP/1.1\r\nHost: test\r\nContent-Length: abc\r\n\r\n", 400, "Bad Request: "),
    (b"POST /items HTTP/1.1\r\nHost: test\r\nContent-Length: 50000000\r\n\r\n", 413,
     "request body exceeds the limit of 5000 bytes"),
])
def test_waitress_refusals_are_json(started: Starter, request_bytes: bytes, status: int, message: str) -> None:
    """waitress answers these before the app sees the request; the answer is JSON all the same
    (the 413 by Content-Length, before any of the body is sent)."""
    port = started(HTTPOptions(max_body_size=1000, max_upload_size=5000))
    with connect(port) as sock:
        sock.sendall(request_bytes)
        got, headers, body = answer(sock)
    assert got == status
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["message"].startswith(message)


def chunked(size: int) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (100, b"x" * 100) for _ in range(size // 100)) + b"0\r\n\r\n"


@pytest.mark.parametrize("size, message", [
    (2000, "request body of 2000 bytes exceeds the limit of 1000 bytes"),  # the app, once waitress has it
    (50_000, "request body exceeds the limit of 5000 bytes"),  # waitress, while reading
])
def test_a_chunked_body_is_bounded(started: Starter, size: int, message: str) -> None:
    port = started(HTTPOptions(max_body_size=1000, max_upload_size=5000))
    with connect(port) as sock:
        sock.sendall(b"POST /items HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        try:
            sock.sendall(chunked(size))
        except OSError:  # the server may answer and close before all of it is sent
            pass
        got, _, body = answer(sock)
    assert (got, json.loads(body)["message"]) == (413, message)


def test_connection_limit_counts_connections(started: Starter) -> None:
    """``connection_limit`` clients are all served at once: waitress's listening socket and trigger,
    which it counts with the connections, do not take two of their places."""
    port = started(HTTPOptions(connection_limit=5))
    clients = [connect(port, timeout=3.0) for _ in range(5)]
    try:
        for sock in clients:
            sock.sendall(GET)
        assert [answer(sock)[0] for sock in clients] == [200] * 5
    finally:
        for sock in clients:
            sock.close()


def test_a_request_costs_no_work_per_idle_connection(started: Starter, monkeypatch: pytest.MonkeyPatch) -> None:
    """With 300 keep-alive connections open, requests on another one never make the loop ask the
    idle ones whether they want to read: waitress's own loop asks every connection on every
    wake-up, which at 1,000 connections left it no time to read and answer (seconds of tail latency)."""
    port = started(HTTPOptions(cleanup_interval=3600))
    idle = [connect(port) for _ in range(300)]
    try:
        for sock in idle:  # each one accepted and served once, then left open
            sock.sendall(GET)
            assert answer(sock)[0] == 200
        asked: list[SpineChannel] = []
        readable = SpineChannel.readable

        def counted(self: SpineChannel) -> bool:
            asked.append(self)
            return bool(readable(self))

        monkeypatch.setattr(SpineChannel, "readable", counted)
        with connect(port) as sock:
            for _ in range(20):
                sock.sendall(GET)
                assert answer(sock)[0] == 200
        monkeypatch.undo()
        assert asked, "the loop never asked the active connection"
        active = asked[-1]
        assert sum(channel is not active for channel in asked) < 300, "idle connections were asked"
    finally:
        for sock in idle:
            sock.close()


def test_a_large_answer_reaches_a_slow_reader_while_others_are_served() -> None:
    """An answer larger than the socket's buffers waits for the socket to drain (EPOLLOUT), and
    is delivered whole to a client reading it slowly, while another client is answered meanwhile."""
    size = 32 * 1024 * 1024  # beyond the socket buffers, and beyond waitress's outbuf_high_watermark
    body = bytes(range(256)) * (size // 256)

    def app(environ: dict[str, object], start_response: Callable[..., object]) -> list[bytes]:
        data = body if environ["PATH_INFO"] == "/large" else b"small"
        start_response("200 OK", [("Content-Length", str(len(data)))])
        return [data]

    server = WaitressServer(app, listen(Address.parse("127.0.0.1:0")), HTTPOptions())
    port = server.server.socket.getsockname()[1]
    server.start()
    try:
        with connect(port, timeout=10.0) as slow, connect(port) as quick:
            slow.sendall(b"GET /large HTTP/1.1\r\nHost: test\r\n\r\n")
            received = slow.recv(65536)
            time.sleep(0.5)  # the buffers are full by now: the rest of the answer waits for EPOLLOUT
            quick.sendall(b"GET /small HTTP/1.1\r\nHost: test\r\n\r\n")
            assert answer(quick)[::2] == (200, b"small")
            while len(received) < size:
                chunk = slow.recv(1024 * 1024)
                assert chunk, "the large answer was cut"
                received += chunk
            _, _, got = received.partition(b"\r\n\r\n")
            while len(got) < size:
                chunk = slow.recv(1024 * 1024)
                assert chunk, "the large answer was cut"
                got += chunk
            assert got == body
    finally:
        server.stop_accepting()
        server.close(time.monotonic() + 2.0)
