"""Everything an extension plugin (``app.extend(...)``, e.g. spine-postgres) needs, from one place.

An extension implements the ``spine_resolver``, ``spine_around`` and
``spine_extension_*`` hooks (:mod:`spine_core.hookspecs`) and may add commands to
the ``spine`` CLI through the ``spine.commands`` entry-point group; a broker's
own needs are in :mod:`spine_core.broker`. Secrets are shown through :func:`redact` (the
broker toolkit's, :mod:`spine_core.toolkit.redact`), after :func:`protect` remembered them.
"""

from __future__ import annotations

from .cli.targets import AppTarget, Target, load_options
from .event import to_message
from .hookspecs import Running
from .ops.logs import configure_logging
from .pipeline.plan import Around, Resolver
from .plugins import create_broker, plugin_manager
from .runtime import Runtime
from .serve import wait_for_signal
from .toolkit.redact import hidden, protect, redact, redact_settings, remember, shown_settings

__all__ = [
    "AppTarget", "Around", "Resolver", "Running", "Runtime", "Target", "configure_logging", "create_broker",
    "hidden", "load_options", "plugin_manager", "protect", "redact", "redact_settings", "remember", "shown_settings",
    "to_message", "wait_for_signal",
]
