"""``python -m apps.stock_app``: the stock service on its own (broker from ``SPINE_BROKER``)."""

from . import create_app, options

create_app().run(options())
