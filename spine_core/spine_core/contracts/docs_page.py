"""The interactive API page (Swagger UI), served from the files of the ``swagger-ui-py`` package:
no CDN, no network. The page loads the app's ``/openapi.json`` and calls the API from the browser."""

from __future__ import annotations

import importlib.util
import mimetypes
import os

import falcon

ASSETS = ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "favicon-32x32.png")
"""The files of Swagger UI the page uses, served under the page's path."""


def assets_dir() -> str | None:
    """Where the installed ``swagger_ui`` package keeps Swagger UI's files (None: not installed)."""
    spec = importlib.util.find_spec("swagger_ui")  # found, not imported: its Jinja2 handlers are not needed
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = os.path.join(list(spec.submodule_search_locations)[0], "static")
    return folder if all(os.path.isfile(os.path.join(folder, a)) for a in ASSETS) else None


def page(docs_path: str, openapi_path: str, title: str) -> str:
    """The HTML of the page: Swagger UI's files, then a script (no inline code) that starts it."""
    import html  # with its table of entities (~0.5 MB): only once someone asks for the page

    base = docs_path.rstrip("/")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{html.escape(title)} - API</title>
  <link rel="stylesheet" href="{base}/swagger-ui.css">
  <link rel="icon" type="image/png" href="{base}/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui" data-url="{html.escape(openapi_path)}"></div>
  <script src="{base}/swagger-ui-bundle.js"></script>
  <script src="{base}/swagger-ui-standalone-preset.js"></script>
  <script src="{base}/start.js"></script>
</body>
</html>
"""


START = """window.onload = function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-url"), dom_id: "#swagger-ui", deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: "BaseLayout"
  });
};
"""
"""The script that starts Swagger UI on the document named by the page."""


class DocsPage:
    """``GET /docs``: the page; ``GET /docs/{asset}``: Swagger UI's files (cached for a day)."""

    def __init__(self, folder: str, docs_path: str, openapi_path: str, title: str) -> None:
        self._folder = folder
        self._page = (docs_path, openapi_path, title)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_HTML
        resp.text = page(*self._page)

    def on_get_asset(self, req: falcon.Request, resp: falcon.Response, asset: str) -> None:
        if asset == "start.js":
            resp.content_type = "text/javascript"
            resp.text = START
            return
        if asset not in ASSETS:
            raise falcon.HTTPNotFound()
        with open(os.path.join(self._folder, asset), "rb") as f:
            resp.data = f.read()
        resp.content_type = mimetypes.guess_type(asset)[0] or "application/octet-stream"
        resp.cache_control = ["public", "max-age=86400"]
