"""``python -m apps.order_app``: the order service on its own (broker from ``SPINE_BROKER``)."""

from . import create_app, options

create_app().run(options())
