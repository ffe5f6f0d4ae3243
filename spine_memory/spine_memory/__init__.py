"""spine-memory: the in-process broker plugin, for demos and fast tests."""

from .broker import MemoryBroker, StoredMessage
from .plugin import MemoryPlugin

__all__ = ["MemoryBroker", "MemoryPlugin", "StoredMessage"]
