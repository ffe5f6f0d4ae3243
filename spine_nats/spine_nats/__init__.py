"""spine-nats: the NATS JetStream broker plugin (``SPINE_BROKER=nats``)."""
