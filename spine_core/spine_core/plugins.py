"""Broker plugins: found in the ``spine`` entry-point group, chosen by name, registered with pluggy."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib.metadata import EntryPoint, entry_points

import pluggy

from . import hookspecs
from .errors import BootError
from .options import BrokerConfig
from .toolkit.redact import protect

GROUP = "spine"
BrokerFactory = Callable[[BrokerConfig], object]
"""What a distribution names in the ``spine`` entry-point group: ``BrokerConfig -> plugin object``."""
REQUIRED_HOOKS = ("spine_publish", "spine_subscribe")


def installed() -> dict[str, EntryPoint]:
    """Every broker plugin installed, by name."""
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def create_broker(config: BrokerConfig) -> object:
    """Build the plugin object of the broker named in ``config``."""
    plugins = installed()
    entry = plugins.get(config.name)
    if entry is None:
        names = ", ".join(sorted(plugins)) or "none"
        raise BootError(f"unknown broker {config.name!r}; installed broker plugins: {names}")
    protect(config.settings)  # its secrets are masked in every log line and redact() from now on
    return entry.load()(config)


def plugin_manager(broker: object, name: str, extensions: Sequence[object] = ()) -> pluggy.PluginManager:
    """A PluginManager with Spine's hookspecs, ``broker`` and ``extensions`` registered; stray
    hookimpls are errors."""
    pm = pluggy.PluginManager("spine")
    pm.add_hookspecs(hookspecs)
    pm.register(broker, name=name)
    for extension in extensions:
        pm.register(extension)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as e:
        raise BootError(f"broker plugin {name!r} or an extension implements an unknown hook: {e}") from None
    # Without these, events would be "published" to nobody and consumers never run.
    missing = [h for h in REQUIRED_HOOKS if not getattr(pm.hook, h).get_hookimpls()]
    if missing:
        raise BootError(f"broker plugin {name!r} does not implement {', '.join(missing)}")
    return pm
