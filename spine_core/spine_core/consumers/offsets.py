"""Deprecated: moved to :mod:`spine_core.toolkit.offsets` (import ``OffsetTracker`` from :mod:`spine_core.broker`)."""

import warnings

from ..toolkit.offsets import OffsetTracker

__all__ = ["OffsetTracker"]

warnings.warn("spine_core.consumers.offsets moved: import OffsetTracker from spine_core.broker",
              DeprecationWarning, stacklevel=2)
