"""Codecs: an event as the bytes of a message and back (JSON, msgpack), and which one a message uses."""
