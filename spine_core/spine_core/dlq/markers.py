"""Deprecated: moved to :mod:`spine_core.toolkit.markers` (``dlq_markers`` in :mod:`spine_core.broker`)."""

import warnings

from ..toolkit.markers import REPLAYED, marker, position_text, replay, waiting

__all__ = ["REPLAYED", "marker", "position_text", "replay", "waiting"]

warnings.warn("spine_core.dlq.markers moved: use dlq_markers from spine_core.broker",
              DeprecationWarning, stacklevel=2)
