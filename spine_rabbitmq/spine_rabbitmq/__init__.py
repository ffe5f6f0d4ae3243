"""spine-rabbitmq: the RabbitMQ broker plugin (``SPINE_BROKER=rabbitmq``)."""
