"""The ``spine`` command: run an app, list what it holds, write and check its contracts, replay dead letters."""

from .main import cli, main

__all__ = ["cli", "main"]
