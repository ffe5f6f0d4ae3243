"""The broker toolkit: what every broker plugin would otherwise write again, handed out by :mod:`spine_core.broker`."""
