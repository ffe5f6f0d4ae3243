"""Everything a broker plugin needs, from one place; it loads no HTTP layer.

A plugin implements the ``spine_*`` hooks (:mod:`spine_core.hookspecs`) with
``@hookimpl``, turns its client's messages into :class:`IncomingMessage` and
hands them to the delivery engine (:class:`Lanes`), which delivers them in key
order on a pool of workers and settles them through the plugin's :class:`Port`.
The plugin keeps only what is its broker's own: the client, positions and
commits, topology and reconnection.

The toolkit (:mod:`spine_core.toolkit`) holds what every plugin would otherwise
write again, so that a new broker is its client plus a port:

- :class:`OffsetTracker`: a partition's offsets for Kafka-like brokers, and the port's
  ``take``, ``worth_finishing`` and ``settled`` for them (a Nack holds the partition);
- :class:`SettingsReader`: ``<X>Settings.from_settings`` reads typed settings with it;
- :class:`Outage`: one line when the server goes, reminders, one when it is back;
- :func:`text_headers`, :func:`as_text`: a client's headers as Spine's text headers;
  :func:`incoming_message` makes an :class:`IncomingMessage` at a lower cost per message;
- :class:`ThreadHandoff`, :class:`LoopHandoff`, :class:`AsyncioHandoff`: settlements
  handed from the engine's workers to the thread that owns the client;
- ``dlq_markers``: dead-letter replay recorded with markers, for append-only logs;
- :func:`redact`, :func:`protect`, :func:`redact_settings`: secrets never shown (the core
  protects each plugin's settings; a plugin passes the text it shows through ``redact``).

The conformance suites (``BrokerConformance``, ``DeadLetterConformance``, ``Features``,
``BrokerOutage``; they need pytest, ``pip install spine-core[testing]``) check the result,
and a plugin's own tests use the test kit of :mod:`spine_core.testing` beside them.
"""

from __future__ import annotations

import warnings
from importlib import import_module
from typing import TYPE_CHECKING, Any

from .consumers.lanes import Lane, Lanes, Port
from .consumers.settle import Outcome, dead_letter_copy
from .errors import BootError, PublishError, SpineError
from .hookspecs import hookimpl
from .messages import (
    ACK, NACK, Ack, DeadLetter, Deliver, DeliverBatch, Headers, Health, IncomingMessage, Nack, OutgoingMessage,
    Settlement, StoredDeadLetter, Subscription, incoming_message,
)
from .options import BrokerConfig, ReadOptions, WriteOptions
from .plugins import BrokerFactory, create_broker
from .toolkit import markers as dlq_markers
from .toolkit.handoff import AsyncioHandoff, Handoff, LoopHandoff, ThreadHandoff
from .toolkit.headers import as_text, text_headers
from .toolkit.offsets import OffsetTracker
from .toolkit.outage import Outage, error_text
from .toolkit.redact import hidden, protect, redact, redact_settings, remember, shown_settings
from .toolkit.settings import SettingsReader

if TYPE_CHECKING:
    from .testing import BrokerConformance, BrokerOutage, DeadLetterConformance, Features

__all__ = [
    "ACK", "Ack", "AsyncioHandoff", "BootError", "BrokerConfig", "BrokerConformance", "BrokerFactory",
    "BrokerOutage", "DeadLetter", "DeadLetterConformance", "Deliver", "DeliverBatch", "Features", "Handoff",
    "Headers", "Health", "IncomingMessage", "Lane", "Lanes", "LoopHandoff", "NACK", "Nack", "OffsetTracker",
    "Outage", "Outcome", "OutgoingMessage", "Port", "PublishError", "ReadOptions", "SettingsReader", "Settlement",
    "SpineError", "StoredDeadLetter", "Subscription", "ThreadHandoff", "WriteOptions", "as_text", "create_broker",
    "dead_letter_copy", "dlq_markers", "error_text", "hidden", "hookimpl", "incoming_message", "protect", "redact",
    "redact_settings", "remember", "shown_settings", "text_headers",
]

_SUITES = ("BrokerConformance", "BrokerOutage", "DeadLetterConformance", "Features")
_MOVED = {"Runtime": "spine_core.extension", "to_message": "spine_core.extension"}
"""Names this module handed out before, and where they are now (until the next release)."""


def __getattr__(name: str) -> Any:
    """The conformance suites, imported only when asked for (they need pytest)."""
    if name in _SUITES:
        return getattr(import_module(".testing", __package__), name)
    if name in _MOVED:
        warnings.warn(f"spine_core.broker.{name} moved to {_MOVED[name]}.{name}; this name goes in the next release",
                      DeprecationWarning, stacklevel=2)
        return getattr(import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
