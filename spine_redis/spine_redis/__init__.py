"""spine-redis: the Redis Streams broker plugin (``SPINE_BROKER=redis``)."""
