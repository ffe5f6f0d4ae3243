"""Everything a broker plugin needs, from one place; it loads no HTTP layer.

A plugin implements the ``spine_*`` hooks (:mod:`spine_core.hookspecs`) with
``@hookimpl``, turns its client's messages into :class:`IncomingMessage` and
hands them to the delivery engine (:class:`Lanes`), which delivers them in key
order on a pool of workers and settles them through the plugin's :class:`Port`.
The plugin keeps only what is its broker's own: the client, positions and
commits (:class:`OffsetTracker` for Kafka-like offsets), topology and
reconnection. The conformance suites (``BrokerConformance``,
``DeadLetterConformance``, ``Features``, ``Outage``; they need pytest, ``pip
install spine-core[testing]``) check the result.
"""

from __future__ import annotations

import warnings
from importlib import import_module
from typing import TYPE_CHECKING, Any

from .consumers.lanes import Lane, Lanes, Port
from .consumers.offsets import OffsetTracker
from .consumers.settle import Outcome, dead_letter_copy
from .dlq import markers as dlq_markers
from .errors import BootError, PublishError, SpineError
from .hookspecs import hookimpl
from .messages import (
    ACK, NACK, Ack, DeadLetter, Deliver, DeliverBatch, Headers, Health, IncomingMessage, Nack, OutgoingMessage,
    Settlement, StoredDeadLetter, Subscription,
)
from .options import BrokerConfig, ReadOptions, WriteOptions
from .plugins import BrokerFactory, create_broker

if TYPE_CHECKING:
    from .testing import BrokerConformance, DeadLetterConformance, Features, Outage

__all__ = [
    "ACK", "Ack", "BootError", "BrokerConfig", "BrokerConformance", "BrokerFactory", "DeadLetter",
    "DeadLetterConformance", "Deliver", "DeliverBatch", "Features", "Headers", "Health", "IncomingMessage", "Lane",
    "Lanes", "NACK", "Nack", "OffsetTracker", "Outage", "OutgoingMessage", "Outcome", "Port", "PublishError",
    "ReadOptions", "Settlement", "SpineError", "StoredDeadLetter", "Subscription", "WriteOptions",
    "create_broker", "dead_letter_copy", "dlq_markers", "hookimpl",
]

_SUITES = ("BrokerConformance", "DeadLetterConformance", "Features", "Outage")
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
