"""spine-postgres is installed with its commands, its typing marker and its requirements."""

from __future__ import annotations

import importlib.metadata as md
from pathlib import Path

import spine_postgres


def test_commands_typing_and_requirements() -> None:
    commands = {ep.name: ep.value for ep in md.entry_points(group="spine.commands") if ep.dist
                and ep.dist.name == "spine-postgres"}
    assert commands == {"db": "spine_postgres.cli:db", "relay": "spine_postgres.cli:relay"}
    assert (Path(spine_postgres.__file__).parent / "py.typed").is_file()
    requires = {r.split(">")[0].split("[")[0].split("=")[0] for r in md.requires("spine-postgres") or []}
    assert requires == {"spine-core", "psycopg", "psycopg-pool"}
