"""``spine contracts check --against`` with saved OpenAPI documents: breaking HTTP changes named, additions pass."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from spine_core.cli import cli
from spine_core.contracts.http_compat import breaking_changes

from .test_openapi import ENV, kinds


def saved(tmp_path: Path, doc: dict[str, Any], name: str = "old.json") -> str:
    out = tmp_path / name
    out.write_text(json.dumps(doc))
    return str(out)


def test_the_same_document_and_additions_pass(tmp_path: Path) -> None:
    """Saved from the current code, or from code with fewer routes, the check passes."""
    old = kinds()
    del old["paths"]["/kinds/page"]
    asyncapi = CliRunner(env=ENV).invoke(cli, ["asyncapi", "apps.order_app"]).output
    (tmp_path / "events.json").write_text(asyncapi)
    result = CliRunner(env=ENV).invoke(cli, ["contracts", "check", "--against", saved(tmp_path, old),
                                             "--against", str(tmp_path / "events.json"), "tests.contracts.kinds_app"])
    assert result.exit_code == 0, result.output
    assert "http ok: no breaking change in Kinds against" in result.output


def test_each_breaking_change_is_named_and_fails_the_command(tmp_path: Path) -> None:
    """A removed route, a new required value or field, a changed type and a narrower answer are each named."""
    old = kinds()
    old["paths"]["/kinds/removed"] = {"get": copy.deepcopy(old["paths"]["/kinds/raw"]["get"])}
    search = old["paths"]["/kinds/search"]["get"]
    search["parameters"] = [p for p in search["parameters"] if p["name"] != "q"]
    for p in search["parameters"]:
        if p["name"] == "n":
            p["schema"] = {"type": "string"}
    order = old["paths"]["/kinds/orders"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    order["required"] = ["customer"]
    answer = old["paths"]["/kinds/stamp/{value}"]["get"]["responses"]["200"]["content"]["application/json"]
    answer["schema"]["properties"]["extra"] = {"type": "string"}
    result = CliRunner(env=ENV).invoke(cli, ["contracts", "check", "--against", saved(tmp_path, old),
                                             "tests.contracts.kinds_app"])
    assert result.exit_code == 1
    for change in ("GET /kinds/removed: removed", "GET /kinds/search: new required query parameter 'q'",
                   "GET /kinds/search: query parameter 'n' changed type: string -> integer (int64)",
                   "POST /kinds/orders: request body: new required field 'lines'",
                   "GET /kinds/stamp/{value}: response 200: field 'extra' no longer answered"):
        assert f"Kinds (against {tmp_path / 'old.json'}): {change}" in result.output
    assert "Error: 5 breaking HTTP change(s) in Kinds against" in result.output


def test_a_dropped_success_status_and_media_type_are_breaking() -> None:
    """A client relying on a 2xx answer or on sending a media type loses it."""
    old, new = kinds(), kinds()
    del new["paths"]["/kinds/created"]["post"]["responses"]["201"]
    del new["paths"]["/kinds/contact"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert breaking_changes(old, new) == [
        "POST /kinds/contact: request body of type multipart/form-data no longer accepted",
        "POST /kinds/created: response 201 no longer answered",
    ]
