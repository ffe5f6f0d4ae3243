"""Moved to :mod:`spine_core.ops.logs` (``configure_logging`` is also ``spine_core.configure_logging``);
this name goes in the next release."""

import warnings

from .ops.logs import ContextFilter, JSONFormatter, configure_logging, context_fields, handler

warnings.warn("spine_core.logs moved to spine_core.ops.logs (configure_logging: spine_core.configure_logging); "
              "this name goes in the next release", DeprecationWarning, stacklevel=2)

__all__ = ["ContextFilter", "JSONFormatter", "configure_logging", "context_fields", "handler"]
