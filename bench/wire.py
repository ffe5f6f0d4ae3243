"""What a publishing server sends its broker, counted on the wire, whatever its client library
(librdkafka's statistics would cover Spine only): TCP segments, and for Kafka its requests.

``tcpdump`` captures what is sent to the broker's port on loopback (passively: the timing of
the run is the clients' own); the capture is then read here, keeping the connections of one
process tree (:func:`local_ports`): each TCP stream towards the broker is put back in
sequence order and, for Kafka, cut into request frames (``int32 size``, then ``int16
api_key``). Needs ``tcpdump`` and the right to capture (root or CAP_NET_RAW); without them
:func:`capture` yields ``None``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import struct
import subprocess  # nosec B404 # runs tcpdump with a fixed argument list
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

PRODUCE = 0
"""Kafka's api key of a ProduceRequest."""

_ETHERNET, _LOOPBACK_BSD, _LINUX_COOKED = 1, 0, 113
_LINK_HEADER = {_ETHERNET: 14, _LOOPBACK_BSD: 4, _LINUX_COOKED: 16}


@contextlib.contextmanager
def capture(port: int) -> Iterator[Path | None]:
    """Capture the TCP payloads sent to ``127.0.0.1:port`` while inside; yields the pcap file's
    path (read it after leaving), or ``None`` when tcpdump cannot capture here."""
    if shutil.which("tcpdump") is None:
        yield None
        return
    path = Path(tempfile.mkstemp(prefix="spine-wire-", suffix=".pcap")[1])
    proc = subprocess.Popen(  # nosec B603 B607 # fixed arguments, no shell
        ["tcpdump", "-i", "lo", "-s", "0", "-U", "-w", str(path), f"tcp dst port {port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    if not _listening(proc):
        proc.kill()
        proc.wait()
        path.unlink(missing_ok=True)
        yield None
        return
    try:
        yield path
    finally:
        time.sleep(0.2)  # let the last packets reach the file (-U writes each at once)
        proc.terminate()
        proc.wait(10)


def _listening(proc: subprocess.Popen[bytes], timeout: float = 5.0) -> bool:
    """tcpdump prints ``listening on ...`` to stderr once it captures (or exits when it cannot)."""
    assert proc.stderr is not None  # nosec B101 # stderr=PIPE above
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline().decode(errors="replace")
        if "listening on" in line:
            return True
        if not line and proc.poll() is not None:
            return False
    return False


def local_ports(pids: Iterable[int]) -> set[int]:
    """The local ports of the TCP sockets that the processes ``pids`` hold open now."""
    inodes: set[str] = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[9] in inodes:
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def segments(pcap: Path, ports: set[int]) -> int:
    """TCP segments carrying data in ``pcap`` sent from one of the local ``ports``."""
    return sum(len(stream) for stream in _streams(pcap, ports).values())


def requests_by_api(pcap: Path, ports: set[int]) -> Counter[int]:
    """Kafka requests in ``pcap`` per api key, over the connections from the local ``ports``."""
    counts: Counter[int] = Counter()
    for stream in _streams(pcap, ports).values():
        counts.update(_api_keys(_in_order(stream)))
    return counts


def _streams(pcap: Path, ports: set[int]) -> dict[tuple[bytes, int], dict[int, bytes]]:
    """The segments carrying data of each connection from one of ``ports``, by sequence number."""
    streams: dict[tuple[bytes, int], dict[int, bytes]] = {}
    for packet in _packets(pcap):
        segment = _tcp_payload(packet)
        if segment is not None and segment[2] and segment[0][1] in ports:
            source, seq, payload = segment
            streams.setdefault(source, {}).setdefault(seq, payload)
    return streams


def _packets(pcap: Path) -> Iterator[bytes]:
    """The link-layer payloads of a classic pcap file (IP packets)."""
    data = pcap.read_bytes()
    if len(data) < 24:
        return
    order = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    link = struct.unpack(order + "I", data[20:24])[0]
    skip = _LINK_HEADER[link]
    offset = 24
    while offset + 16 <= len(data):
        length = struct.unpack(order + "I", data[offset + 8:offset + 12])[0]
        frame = data[offset + 16:offset + 16 + length]
        offset += 16 + length
        yield frame[skip:]


def _tcp_payload(packet: bytes) -> tuple[tuple[bytes, int], int, bytes] | None:
    """``((source address, source port), sequence number, payload)`` of an IPv4 or IPv6 TCP packet."""
    if not packet:
        return None
    version = packet[0] >> 4
    if version == 4 and packet[9] == 6:
        header, total, source = (packet[0] & 0x0F) * 4, struct.unpack("!H", packet[2:4])[0], packet[12:16]
    elif version == 6 and packet[6] == 6:
        header, total, source = 40, 40 + struct.unpack("!H", packet[4:6])[0], packet[8:24]
    else:
        return None
    tcp = packet[header:total]
    port, seq = struct.unpack("!H", tcp[0:2])[0], struct.unpack("!I", tcp[4:8])[0]
    return (source, port), seq, tcp[(tcp[12] >> 4) * 4:]


def _in_order(segments: dict[int, bytes]) -> bytes:
    """One direction of a connection, its segments in sequence order counted from the first
    captured (the 32-bit numbers may wrap), a retransmitted range once."""
    first = next(iter(segments))
    out = bytearray()
    end = 0
    for seq, payload in sorted(((seq - first) % 2**32, payload) for seq, payload in segments.items()):
        out += payload[max(0, end - seq):]
        end = max(end, seq + len(payload))
    return bytes(out)


def _api_keys(stream: bytes) -> Iterator[int]:
    """The api key of each request frame in ``stream``; stops at a frame that does not parse
    (a capture that began in the middle of one)."""
    offset = 0
    while offset + 6 <= len(stream):
        size, api_key = struct.unpack("!ih", stream[offset:offset + 6])
        if size < 8 or not 0 <= api_key < 100:
            return
        yield api_key
        offset += 4 + size
