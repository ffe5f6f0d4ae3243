"""Request parameter types resolved from their annotation: query values and headers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping


class Query(Mapping[str, str]):
    """The query string: ``query["page"]`` is the last value, ``get_all`` gives every one."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, str | list[str]]) -> None:
        self._values = values

    def __getitem__(self, name: str) -> str:
        value = self._values[name]
        return value[-1] if isinstance(value, list) else value

    def get_all(self, name: str) -> list[str]:
        value = self._values.get(name, [])
        return list(value) if isinstance(value, list) else [value]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


class RequestHeaders(Mapping[str, str]):
    """The request's headers, looked up case-insensitively."""

    __slots__ = ("_headers",)

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._headers = {k.lower(): v for k, v in headers.items()}

    def __getitem__(self, name: str) -> str:
        return self._headers[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._headers)

    def __len__(self) -> int:
        return len(self._headers)
