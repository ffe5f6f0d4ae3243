"""Whether every message a sender can produce is accepted by a receiver, from AsyncAPI documents.

The sender's payload is what Spine's converter makes of its class: every field
is always present (defaults included). The receiver's class decodes it if each
field it requires is there and each field both have is of a type it accepts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from attrs import frozen

from .asyncapi import channel_payloads
from .schema import Schema


@frozen
class Problem:
    """One incompatibility: on ``topic``, ``field`` of the sender's class and the receiver's; ``pair`` is
    the compared pair of documents it was found in."""

    topic: str
    field: str
    sender: str
    receiver: str
    detail: str
    pair: Checked

    def __str__(self) -> str:
        return f"{self.topic}: field {self.field!r}: {self.detail} (sender {self.sender}, receiver {self.receiver})"


@frozen
class Checked:
    """One pair compared: a topic, the sending and the receiving document's titles."""

    topic: str
    sender: str
    receiver: str


def check(docs: Sequence[Mapping[str, Any]]) -> tuple[list[Checked], list[Problem]]:
    """Compare every topic one document sends with every other document that receives it."""
    checked: list[Checked] = []
    problems: list[Problem] = []
    for sender in docs:
        for receiver in docs:
            if receiver is sender:
                continue
            received = channel_payloads(receiver, "receive")
            for topic, sent in channel_payloads(sender, "send").items():
                if topic not in received:
                    continue
                pair = Checked(topic, sender["info"]["title"], receiver["info"]["title"])
                checked.append(pair)
                for s_cls, s_schema in sent:
                    for r_cls, r_schema in received[topic]:
                        s_name = f"{s_cls} ({sender['info']['title']})"
                        r_name = f"{r_cls} ({receiver['info']['title']})"
                        problems += [Problem(topic, f, s_name, r_name, d, pair) for f, d in compare(s_schema, r_schema)]
    return checked, problems


def compare(sent: Schema, accepted: Schema, path: str = "") -> list[tuple[str, str]]:
    """(field, what is wrong) for each way a value valid for ``sent`` can be refused by ``accepted``."""
    if not accepted:
        return []
    options = sent.get("anyOf", [sent])
    targets = accepted.get("anyOf", [accepted])
    problems: list[tuple[str, str]] = []
    for option in options:
        found = [_compare_one(option, t, path) for t in targets]
        if not any(not f for f in found):
            best = min(found, key=len)
            if (len(options) > 1 or len(targets) > 1) and len(best) == 1 and best[0][0] == path:
                best = [(path, f"sender may send {describe(option)}, receiver accepts {describe(accepted)}")]
            problems += best
    return problems


def _compare_one(sent: Schema, accepted: Schema, path: str) -> list[tuple[str, str]]:
    s_type, a_type = sent.get("type"), accepted.get("type")
    if a_type is not None and s_type != a_type and not (s_type == "integer" and a_type == "number"):
        return [(path, f"type differs: sender {describe(sent)}, receiver {describe(accepted)}")]
    if "format" in accepted and sent.get("format") != accepted["format"]:
        return [(path, f"format differs: sender {describe(sent)}, receiver {describe(accepted)}")]
    if "enum" in accepted:
        extra = [v for v in sent.get("enum", [None]) if v not in accepted["enum"]]
        if "enum" not in sent or extra:
            shown = "any value" if "enum" not in sent else f"{extra!r}"
            return [(path, f"sender may send {shown}, receiver accepts only {accepted['enum']!r}")]
    if a_type == "object":
        return _compare_object(sent, accepted, path)
    if a_type == "array" and isinstance(accepted.get("items"), dict) and isinstance(sent.get("items"), dict):
        return compare(sent["items"], accepted["items"], f"{path}[]")
    return []


def _compare_object(sent: Schema, accepted: Schema, path: str) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    s_props, a_props = sent.get("properties", {}), accepted.get("properties", {})
    for name in accepted.get("required", []):
        if name not in s_props:
            unmatched = [n for n in s_props if n not in a_props and not compare(s_props[n], a_props.get(name, {}))]
            hint = f" (renamed to {', '.join(repr(n) for n in unmatched)}?)" if unmatched else ""
            problems.append((_join(path, name), f"required by the receiver, not sent by the sender{hint}"))
    for name, schema in a_props.items():
        if name in s_props:
            problems += compare(s_props[name], schema, _join(path, name))
    s_more, a_more = sent.get("additionalProperties"), accepted.get("additionalProperties")
    if isinstance(s_more, dict) and isinstance(a_more, dict):
        problems += compare(s_more, a_more, f"{path}{{}}")
    return problems


def describe(schema: Schema) -> str:
    """A short name of a schema's type: ``integer``, ``string (date-time)``, ``string | null``."""
    if "anyOf" in schema:
        return " | ".join(describe(s) for s in schema["anyOf"])
    if "enum" in schema:
        return f"one of {schema['enum']!r}"
    kind = str(schema.get("type", "anything"))
    if "format" in schema:
        kind += f" ({schema['format']})"
    if kind == "array" and isinstance(schema.get("items"), dict):
        kind += f" of {describe(schema['items'])}"
    if kind == "object" and "title" in schema:
        kind += f" {schema['title']}"
    return kind


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
