"""Whether a new OpenAPI document still serves every client of an old one: the breaking HTTP changes.

Breaking: a route or method removed; a new required parameter, body or body field; a parameter or
field whose type changed; a media type no longer accepted; a narrower response (a success status
no longer answered, or an answered field dropped, made optional or of another type). Additions pass.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .schema import Schema

_METHODS = ("get", "head", "post", "put", "patch", "delete", "options")


def breaking_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Each breaking change from ``old`` to ``new``, as ``METHOD /path: what``."""
    problems: list[str] = []
    new_paths = new.get("paths", {})
    for path, item in old.get("paths", {}).items():
        for method in (m for m in _METHODS if m in item):
            where = f"{method.upper()} {path}"
            if method not in new_paths.get(path, {}):
                problems.append(f"{where}: removed")
                continue
            before, after = item[method], new_paths[path][method]
            problems += [f"{where}: {p}" for p in _parameters(before, after)]
            problems += [f"{where}: {p}" for p in _body(before, after, old, new)]
            problems += [f"{where}: {p}" for p in _responses(before, after, old, new)]
    return problems


def _parameters(before: Mapping[str, Any], after: Mapping[str, Any]) -> Iterator[str]:
    old = {(p["in"], p["name"].lower() if p["in"] == "header" else p["name"]): p for p in before.get("parameters", [])}
    for p in after.get("parameters", []):
        key = (p["in"], p["name"].lower() if p["in"] == "header" else p["name"])
        was = old.get(key)
        if p.get("required") and (was is None or not was.get("required")):
            yield f"new required {p['in']} parameter {p['name']!r}"
        if was is not None and _kind(was.get("schema", {})) != _kind(p.get("schema", {})):
            yield (f"{p['in']} parameter {p['name']!r} changed type: {_kind(was.get('schema', {}))} "
                   f"-> {_kind(p.get('schema', {}))}")


def _body(before: Mapping[str, Any], after: Mapping[str, Any], old: Mapping[str, Any],
          new: Mapping[str, Any]) -> Iterator[str]:
    was, now = before.get("requestBody"), after.get("requestBody")
    if now is None:
        return
    if was is None:
        if now.get("required"):
            yield "a request body is now required"
        return
    for media, content in was.get("content", {}).items():
        if media not in now.get("content", {}):
            yield f"request body of type {media} no longer accepted"
            continue
        sent = _resolve(content.get("schema", {}), old)
        taken = _resolve(now["content"][media].get("schema", {}), new)
        yield from (f"request body: {p}" for p in _accepts(sent, taken, "", old, new))


def _accepts(sent: Schema, taken: Schema, path: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[str]:
    """What a request valid for ``sent`` (the old schema) may no longer fit in ``taken``."""
    if _kind(sent) != _kind(taken):
        yield f"field {path or '(the body)'!r} changed type: {_kind(sent)} -> {_kind(taken)}"
        return
    sent_props, taken_props = sent.get("properties", {}), taken.get("properties", {})
    for name in taken.get("required", []):
        if name not in sent.get("required", []):
            yield f"new required field {_join(path, name)!r}"
    for name, schema in taken_props.items():
        if name in sent_props:
            yield from _accepts(_resolve(sent_props[name], old), _resolve(schema, new), _join(path, name), old, new)


def _responses(before: Mapping[str, Any], after: Mapping[str, Any], old: Mapping[str, Any],
               new: Mapping[str, Any]) -> Iterator[str]:
    now = after.get("responses", {})
    for status, response in before.get("responses", {}).items():
        if not status.startswith(("2", "3")):
            continue
        if status not in now:
            yield f"response {status} no longer answered"
            continue
        for media, content in _resolve(response, old).get("content", {}).items():
            answered = _resolve(now[status], new).get("content", {}).get(media)
            if answered is None:
                yield f"response {status} no longer answered as {media}"
                continue
            yield from (f"response {status}: {p}" for p in _promises(
                _resolve(content.get("schema", {}), old), _resolve(answered.get("schema", {}), new), "", old, new))


def _promises(was: Schema, now: Schema, path: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[str]:
    """What a client relying on ``was`` (the old answer) no longer gets from ``now``."""
    if _kind(was) != _kind(now):
        yield f"field {path or '(the body)'!r} changed type: {_kind(was)} -> {_kind(now)}"
        return
    if isinstance(was.get("items"), dict) and isinstance(now.get("items"), dict):
        yield from _promises(_resolve(was["items"], old), _resolve(now["items"], new), f"{path}[]", old, new)
    now_props = now.get("properties", {})
    for name, schema in was.get("properties", {}).items():
        if name not in now_props:
            yield f"field {_join(path, name)!r} no longer answered"
            continue
        if name in was.get("required", []) and name not in now.get("required", []):
            yield f"field {_join(path, name)!r} no longer always answered"
        yield from _promises(_resolve(schema, old), _resolve(now_props[name], new), _join(path, name), old, new)


def _resolve(schema: Any, doc: Mapping[str, Any]) -> Any:
    """``schema`` with a local ``$ref`` followed (``#/components/...``)."""
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and str(schema["$ref"]).startswith("#/") and seen < 20:
        target: Any = doc
        for part in schema["$ref"][2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        schema, seen = target, seen + 1
    return schema


def _kind(schema: Schema) -> str:
    kind = schema.get("type", "any")
    text = "|".join(kind) if isinstance(kind, list) else str(kind)
    if "anyOf" in schema:
        text = " or ".join(_kind(s) for s in schema["anyOf"])
    return f"{text} ({schema['format']})" if "format" in schema else text


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
