"""Random ids: format, uniqueness, and no repeats in a forked child."""

from __future__ import annotations

import os
import re

import pytest

from spine_core.ids import id64, id128


def test_ids_are_lowercase_hex_of_fixed_width_and_unique() -> None:
    """128- and 64-bit ids are 32 and 16 hex digits; 10,000 of each are all distinct."""
    long_ids = {id128() for _ in range(10_000)}
    short_ids = {id64() for _ in range(10_000)}
    assert len(long_ids) == len(short_ids) == 10_000
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in long_ids)
    assert all(re.fullmatch(r"[0-9a-f]{16}", i) for i in short_ids)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_does_not_repeat_parent_ids() -> None:
    """A pre-forked worker (e.g. under gunicorn) must not make the ids its parent makes next."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: write its next ids and leave without running pytest's teardown
        os.close(read)
        os.write(write, " ".join(id128() for _ in range(5)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as pipe:
        child = set(pipe.read().split())
    parent = {id128() for _ in range(5)}
    assert len(child) == 5 and not child & parent
