"""An app that uses every parameter, body and return kind, for the OpenAPI tests and the fuzzer."""

from __future__ import annotations

import enum
from datetime import datetime, timezone

from attrs import Factory, define, frozen

from spine_core import (
    BigInt, Binary, BrokerOptions, Context, Cors, HTTPOptions, Interceptor, NotFound, Options, Pagination, Redirect,
    Response, Spine, Unauthorized, UploadedFile, form, header, path, query,
)

TOKEN = "secret"


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


@frozen
class Line:
    """One line of an order."""

    sku: str
    qty: int = 1


@frozen
class Order:
    """An order as sent and as answered."""

    customer: str
    lines: list[Line]
    colour: Colour = Colour.RED
    total: float = 0.0
    counter: BigInt = BigInt(0)
    note: str | None = None


@frozen
class Stamped:
    """A value and when it was made."""

    value: int
    at: datetime


@form
@define
class Contact:
    """A contact form."""

    name: str
    age: int
    subscribe: bool = False
    topics: list[str] = Factory(list)


@frozen
class Stored:
    """What was uploaded."""

    field: str
    size: int


class BearerAuth(Interceptor):
    """Answers 401 unless ``Authorization: Bearer secret``."""

    responses = {401: "No valid bearer token."}
    security = {"bearer": {"type": "http", "scheme": "bearer"}}

    def pre_handle(self, ctx: Context) -> None:
        request = getattr(ctx, "request", None)
        if request is None or request.get_header("Authorization") != f"Bearer {TOKEN}":
            raise Unauthorized("a bearer token is required", headers={"WWW-Authenticate": "Bearer"})


class Kinds:
    """Every kind of input and answer."""

    def item(self, item_id: path.Int, ratio: path.Float, name: path.String, flag: path.Bool) -> str:
        """Echo the four path kinds.

        Each segment is typed by its parameter.
        """
        return f"{item_id.value} {ratio.value} {name.value} {flag.value}"

    def search(self, q: query.String, n: query.Int = query.Int(10), exact: query.Bool | None = None,
               x_tenant: header.String | None = None, x_version: header.Int = header.Int(1)) -> list[Line]:
        """Query and header values, with defaults."""
        return [Line(q.value, n.value)]

    def create(self, order: Order) -> Order:
        """Take a JSON body and answer it."""
        return order

    def stamp(self, value: path.Int) -> Stamped:
        """An attrs answer with a date-time."""
        return Stamped(value.value, datetime(2026, 1, 1, tzinfo=timezone.utc))

    def contact(self, contact: Contact) -> Contact:
        """A form body."""
        return contact

    def upload(self, avatar: UploadedFile) -> Stored:
        """One file by field name."""
        return Stored(avatar.field, avatar.size)

    def uploads(self, files: list[UploadedFile]) -> list[Stored]:
        """Every file sent."""
        return [Stored(f.field, f.size) for f in files]

    def page(self, page: Pagination) -> dict[str, int]:
        """Pagination's two query values."""
        return {"page": page.page, "size": page.size}

    def gone(self) -> Redirect:
        """A redirect."""
        return Redirect("/api/kinds/page", status=308)

    def raw(self) -> bytes:
        """Bytes."""
        return b"\x00\x01"

    def csv(self) -> Binary:
        """A download."""
        return Binary(b"a,b\n1,2\n", "text/csv", filename="x.csv")

    def delete(self, item_id: path.Int) -> None:
        """No content, or 404 for a negative id."""
        if item_id.value < 0:
            raise NotFound(f"no item {item_id.value}")

    def created(self, order: Order) -> Response:
        """A Response whose status the route declares."""
        return Response(order, status=201)

    def secret(self) -> str:
        """Behind the bearer interceptor."""
        return "ok"


def create_app() -> Spine:
    app = Spine(title="Kinds", version="2.3.4")
    app.constructor(Kinds)
    app.interceptor(Cors(allow_origins=["https://kinds.example"], allow_methods=["GET", "POST", "DELETE"]))
    app.route("GET", "/kinds/items/:item_id/:ratio/:name/:flag", Kinds.item)
    app.route("GET", "/kinds/search", Kinds.search)
    app.route("POST", "/kinds/orders", Kinds.create)
    app.route("GET", "/kinds/stamp/:value", Kinds.stamp)
    app.route("POST", "/kinds/contact", Kinds.contact)
    app.route("PUT", "/kinds/avatar", Kinds.upload)
    app.route("POST", "/kinds/files", Kinds.uploads)
    app.route("GET", "/kinds/page", Kinds.page)
    app.route("GET", "/kinds/gone", Kinds.gone)
    app.route("GET", "/kinds/raw", Kinds.raw)
    app.route("GET", "/kinds/csv", Kinds.csv)
    app.route("DELETE", "/kinds/items/:item_id", Kinds.delete, responses={404: "No such item."})
    app.route("POST", "/kinds/created", Kinds.created, responses={201: Order})
    app.route("GET", "/kinds/secret", Kinds.secret, interceptors=[BearerAuth()])
    return app


def options() -> Options:
    """The memory broker, a route prefix, pages of at most 30."""
    return Options(address="127.0.0.1:8090", broker=BrokerOptions(name="memory"),
                   http=HTTPOptions(global_prefix="/api", max_page_size=30, max_upload_size=64 * 1024))
