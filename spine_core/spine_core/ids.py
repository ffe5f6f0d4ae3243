"""Random ids for events, traces and correlation: unique, not secret, and cheap
(``uuid4`` reads the OS's random source on every call, several times slower)."""

from __future__ import annotations

import os
import random

_random = random.Random()  # seeded from os.urandom
if hasattr(os, "register_at_fork"):  # a forked worker must not repeat its parent's ids
    os.register_at_fork(after_in_child=_random.seed)


def id128() -> str:
    """128 random bits as 32 lowercase hex digits, never all zeros."""
    return f"{_random.getrandbits(128) or 1:032x}"


def id64() -> str:
    """64 random bits as 16 lowercase hex digits, never all zeros."""
    return f"{_random.getrandbits(64) or 1:016x}"
