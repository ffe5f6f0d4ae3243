"""Metrics of every worker process in each scrape: the workers of one run answer each other's scrapes.

With ``SPINE_WORKERS`` > 1 a scrape reaches one worker, at random. The supervisor makes a
directory for the run (:func:`share_between_workers`, before it forks); each worker's
:class:`Peers` serves its summed numbers on a Unix socket there, and the worker answering a
scrape asks every sibling for theirs and adds them to its own. A worker that stops writes its
final numbers into the directory, so counters do not go back when a worker is replaced.

PERF: nothing is shared on the counting path (it stays per thread, without locks); the cost
is at scrape time, one local round trip per worker.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from typing import Final

log = logging.getLogger("spine.metrics")

Series = dict[tuple[str, ...], "float | list[float]"]
ASK_TIMEOUT: Final = 1.0
"""Seconds a scrape waits for a sibling's numbers (a sibling that does not answer is left out)."""

_directory: str | None = None


def share_between_workers(directory: str | None) -> None:
    """Called by the supervisor before it forks: the workers' runtimes share numbers in ``directory``."""
    global _directory
    _directory = directory


def shared_directory() -> str | None:
    """The run's directory in a worker process; None in a single process."""
    return _directory


def add(into: Series, series: Series) -> None:
    """Add ``series`` to ``into``, series by series (bucket by bucket for histograms)."""
    for key, value in series.items():
        mine = into.get(key)
        if mine is None:
            into[key] = list(value) if isinstance(value, list) else value
        elif isinstance(mine, list) and isinstance(value, list):
            for i, v in enumerate(value):
                mine[i] += v
        elif not isinstance(mine, list) and not isinstance(value, list):
            into[key] = mine + value


def _encode(series: Series) -> bytes:
    return json.dumps([[list(k), v] for k, v in series.items()]).encode()


def _decode(data: bytes) -> Series:
    return {tuple(k): v for k, v in json.loads(data)}


class Peers:
    """This worker's numbers served to its siblings in ``directory``, and theirs fetched for a scrape."""

    def __init__(self, directory: str, series: Callable[[], Series]) -> None:
        self._directory = directory
        self._series = series
        self._name = f"{os.getpid()}"
        self._path = os.path.join(directory, self._name + ".sock")
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.bind(self._path)
        self._sock.listen(16)
        self._closed = False
        threading.Thread(target=self._serve, name="spine-metrics-peers", daemon=True).start()

    def _serve(self) -> None:
        while not self._closed:
            try:
                connection, _ = self._sock.accept()
            except OSError:
                return  # closed
            with connection:
                try:
                    connection.sendall(_encode(self._series()))
                except OSError:
                    pass  # the asking sibling gave up

    def others(self) -> Series:
        """Every sibling's numbers, and those of the workers that stopped, summed."""
        total: Series = {}
        try:
            names = os.listdir(self._directory)
        except OSError:
            return total
        for name in names:
            stem, _, kind = name.partition(".")
            if stem == self._name:
                continue
            path = os.path.join(self._directory, name)
            try:
                if kind == "json":
                    with open(path, "rb") as f:
                        add(total, _decode(f.read()))
                elif kind == "sock":
                    add(total, _decode(_ask(path)))
            except (OSError, ValueError) as e:  # a sibling stopping at this moment
                log.debug("metrics of worker %s left out of this scrape: %s", stem, e)
        return total

    def close(self) -> None:
        """Stop answering; leave this worker's final numbers for the scrapes to come."""
        if self._closed:
            return
        final = os.path.join(self._directory, self._name + ".tmp")
        with open(final, "wb") as f:
            f.write(_encode(self._series()))
        self._closed = True
        self._sock.close()
        try:
            os.unlink(self._path)
        except OSError:
            pass
        os.replace(final, os.path.join(self._directory, self._name + ".json"))


def _ask(path: str) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(ASK_TIMEOUT)
        s.connect(path)
        chunks: list[bytes] = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
