"""Ids of events, correlation and traces: random hex ids, unique, not secret and cheap
(``uuid4`` reads the OS's random source on every call, several times slower), and the
W3C ``traceparent`` that names one span of a trace."""

from __future__ import annotations

import os
import random
import re

from attrs import frozen

_random = random.Random()  # nosec B311 # ids and trace ids, not secrets (seeded from os.urandom)
if hasattr(os, "register_at_fork"):  # a forked worker must not repeat its parent's ids
    os.register_at_fork(after_in_child=_random.seed)

_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?")
_NO_TRACE, _NO_SPAN = "0" * 32, "0" * 16  # all-zero ids are invalid


def id128() -> str:
    """128 random bits as 32 lowercase hex digits, never all zeros."""
    return f"{_random.getrandbits(128) or 1:032x}"


def id64() -> str:
    """64 random bits as 16 lowercase hex digits, never all zeros."""
    return f"{_random.getrandbits(64) or 1:016x}"


@frozen
class TraceParent:
    """One span's place in a W3C trace: ``trace_id`` (32 hex), ``span_id`` (16 hex), ``flags`` (2 hex)."""

    trace_id: str
    span_id: str
    flags: str = "01"

    @classmethod
    def parse(cls, header: str | None) -> TraceParent | None:
        """The parent of a ``traceparent`` header value, or None if it is missing or invalid."""
        match = _TRACEPARENT.fullmatch(header.strip().lower()) if header else None
        if match is None:
            return None
        version, trace_id, span_id, flags, rest = match.groups()
        if version == "ff" or (version == "00" and rest) or trace_id == _NO_TRACE or span_id == _NO_SPAN:
            return None
        return cls(trace_id, span_id, flags)

    @classmethod
    def root(cls) -> TraceParent:
        """The first span of a new, sampled trace."""
        return cls(id128(), id64())

    def child(self) -> TraceParent:
        """A new span of the same trace."""
        return TraceParent(self.trace_id, id64(), self.flags)

    def header(self) -> str:
        """The ``traceparent`` header value naming this span as the parent."""
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"
