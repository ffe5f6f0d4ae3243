"""``python -m spine_core.cli``: the ``spine`` command."""

from .main import main

main()
