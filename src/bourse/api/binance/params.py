"""Request parameters as Binance reads them, and their OpenAPI description.

Parameters come from the query string and, on any method, from a form-encoded body whatever the
Content-Type says (python-binance sends DELETE parameters in the body; binance-connector sends
`Content-Type: application/json` with an empty body). A parameter in both places takes the query
string's value, as on Binance. The raw bytes are kept: signatures are checked over them, never over
a re-encoding.

Numbers are decimal strings matching Binance's pattern and are converted exactly to the engine's
scaled integers (`49000.0` from binance-sdk-spot is fine; `1e-05` is refused, as Binance does).
"""

import re
from enum import StrEnum
from typing import Any, NamedTuple, TypeVar
from urllib.parse import parse_qsl

from starlette.requests import Request

from bourse.api.binance.replies import (
    ApiError,
    illegal_chars,
    invalid_value,
    mandatory,
    overflowed,
)
from bourse.domain.limits import int64_problem
from bourse.domain.money import AmountRangeError, PrecisionError, to_raw

NUMBER_PATTERN = r"^([0-9]{1,20})(\.[0-9]{1,20})?$"
_NUMBER = re.compile(NUMBER_PATTERN)
_INT = re.compile(r"^-?[0-9]{1,20}$")
INT_PATTERN = "^[0-9]{1,20}$"
E = TypeVar("E", bound=StrEnum)
_BODY_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})


def _parse(raw: bytes) -> dict[str, str]:
    values: dict[str, str] = {}
    if not raw:
        return values
    text = raw.decode("latin-1")
    if "%" in text or "+" in text:  # escapes to decode: the standard library's parser
        pairs: list[tuple[str, str]] = parse_qsl(text, keep_blank_values=True)
    else:  # what clients send for an order: split as parse_qsl would, in a fraction of the time
        pairs = [
            (name, value) for name, _, value in (p.partition("=") for p in text.split("&") if p)
        ]
    for name, value in pairs:
        if name in values:
            raise ApiError(-1101, "Duplicate values for a parameter detected.")
        values[name] = value
    return values


class Params:
    __slots__ = ("body", "query", "values")

    def __init__(self, query: bytes, body: bytes = b"") -> None:
        self.query = query
        self.body = body
        values = _parse(body)
        values.update(_parse(query))  # the query string wins, as on Binance
        self.values = values

    @classmethod
    def of(cls, values: dict[str, str]) -> "Params":
        """Parameters already decoded (a WebSocket API request's); nothing raw to sign over."""
        params = cls(b"")
        params.values = values
        return params

    @classmethod
    async def read(cls, request: Request) -> "Params":
        body = await request.body() if request.method in _BODY_METHODS else b""
        return cls(request.scope.get("query_string", b""), body)

    def signed_payload(self) -> tuple[bytes, str | None]:
        """The bytes a client signed (query + body without `signature=`), and the signature."""
        sig = self.values.get("signature")
        if sig is None:
            return self.query + self.body, None
        return _without_signature(self.query) + _without_signature(self.body), sig

    def has(self, name: str) -> bool:
        return bool(self.values.get(name))

    def text(self, name: str) -> str:
        """A mandatory parameter (-1102 when missing or empty)."""
        value = self.values.get(name)
        if not value:
            raise mandatory(name)
        return value

    def opt_text(self, name: str) -> str | None:
        return self.values.get(name) or None

    def integer(self, name: str, *, low: int | None = None, high: int | None = None) -> int:
        value = self.opt_integer(name, low=low, high=high)
        if value is None:
            raise mandatory(name)
        return value

    def opt_integer(
        self, name: str, *, low: int | None = None, high: int | None = None
    ) -> int | None:
        text = self.values.get(name)
        if not text:
            return None
        if not _INT.match(text):
            raise illegal_chars(name, INT_PATTERN)
        value = int(text)
        if int64_problem(value, name):  # every integer parameter is 64-bit, as on Binance
            raise overflowed(name)
        if (low is not None and value < low) or (high is not None and value > high):
            raise invalid_value(name)
        return value

    def amount(self, name: str, precision: int) -> int:
        """A mandatory decimal as raw integer units of `precision` decimals."""
        value = self.opt_amount(name, precision)
        if value is None:
            raise mandatory(name)
        return value

    def opt_amount(self, name: str, precision: int) -> int | None:
        text = self.values.get(name)
        if not text:
            return None
        if not _NUMBER.match(text):
            raise illegal_chars(name, NUMBER_PATTERN)
        try:
            return to_raw(text, precision, what=name)
        except AmountRangeError:
            raise overflowed(name) from None
        except PrecisionError:
            raise ApiError(-1111, f"Parameter '{name}' has too much precision.") from None

    def choice(self, name: str, enum: type[E], error: ApiError | None = None) -> E:
        value = self.opt_choice(name, enum, error)
        if value is None:
            raise mandatory(name)
        return value

    def opt_choice(self, name: str, enum: type[E], error: ApiError | None = None) -> E | None:
        text = self.values.get(name)
        if not text:
            return None
        try:
            return enum(text.upper())
        except ValueError:
            raise error or invalid_value(name) from None

    def flag(self, name: str) -> bool | None:
        text = self.values.get(name)
        if not text:
            return None
        lowered = text.lower()
        if lowered not in ("true", "false"):
            raise invalid_value(name)
        return lowered == "true"


def _without_signature(raw: bytes) -> bytes:
    if b"signature=" not in raw:
        return raw
    return b"&".join(p for p in raw.split(b"&") if not p.startswith(b"signature="))


# --- OpenAPI: routes that parse their own parameters describe them here ----------------------


class P(NamedTuple):
    """One documented parameter (in the query string; a form body may carry it as well)."""

    name: str
    kind: str = "string"  # string | integer | number | boolean
    required: bool = False
    description: str = ""
    enum: tuple[str, ...] = ()


SIGNED = (
    P("timestamp", "integer", True, "Milliseconds since the epoch when the request was made"),
    P("recvWindow", "integer", False, "How long (ms, up to 60000) the request stays valid"),
    P("signature", "string", True, "HMAC-SHA256 (hex) or Ed25519 (base64) signature"),
)


def _schema(p: P) -> dict[str, Any]:
    if p.enum:
        return {"type": "string", "enum": list(p.enum)}
    if p.kind == "number":  # Binance takes decimals as strings
        return {"type": "string", "pattern": NUMBER_PATTERN}
    return {"type": p.kind}


def openapi(*params: P, signed: bool = False) -> dict[str, Any]:
    """`openapi_extra` for a route: its parameters, and the key header if it is signed."""
    listed = [*params, *SIGNED] if signed else list(params)
    doc: list[dict[str, Any]] = [
        {
            "name": p.name,
            "in": "query",
            "required": p.required,
            "description": p.description,
            "schema": _schema(p),
        }
        for p in listed
    ]
    if signed:
        doc.append(
            {
                "name": "X-MBX-APIKEY",
                "in": "header",
                "required": True,
                "description": "The API key",
                "schema": {"type": "string"},
            }
        )
    return {"parameters": doc}
