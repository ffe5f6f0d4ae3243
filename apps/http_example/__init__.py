"""An HTTP service showing one route per feature: form DTO, uploads, pagination, redirect,
binary download, cookies, and CORS for a browser app on another origin."""

from __future__ import annotations

from spine_core import BrokerOptions, Cors, HTTPOptions, Options, Spine

from .controller import Page, ShopController, Signup

BROWSER_APP = "https://shop.example"


def create_app() -> Spine:
    app = Spine(title="Shop", version="1.0.0")
    app.constructor(ShopController)
    app.interceptor(Cors(
        allow_origins=[BROWSER_APP],
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type", "Authorization"],
        allow_credentials=True,
        expose_headers=["X-Total-Count"],
        max_age=300,
    ))
    app.route("POST", "/signup", ShopController.signup, responses={201: Signup})  # form DTO; Response, cookie
    app.route("POST", "/files", ShopController.upload)           # every uploaded file
    app.route("PUT", "/avatar", ShopController.avatar)           # one file, by field name
    app.route("GET", "/items", ShopController.items, responses={200: Page})  # Pagination
    app.route("GET", "/catalogue", ShopController.old_catalogue)  # Redirect
    app.route("GET", "/report.csv", ShopController.report)       # Binary, streamed download
    return app


def options() -> Options:
    """Port 8082 on the memory broker; uploads up to 64 KiB, pages of at most 50 items."""
    return Options(
        address=":8082",
        broker=BrokerOptions(name="memory"),
        http=HTTPOptions(max_upload_size=64 * 1024, max_page_size=50),
    )
