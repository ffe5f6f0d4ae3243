"""``python -m apps.http_example``: the HTTP example on port 8082."""

from . import create_app, options

create_app().run(options())
