"""Process logging for ``Spine.run``: readable lines on stderr, level from ``SPINE_LOG_LEVEL``."""

from __future__ import annotations

import logging
import os


def configure_logging() -> None:
    """Configure the root logger once, unless the application already did."""
    level = os.environ.get("SPINE_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
