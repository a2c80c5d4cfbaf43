"""WebSocket API frames (web-socket-api.md, "Request format" and "Response format").

A request `{"id", "method", "params"}` is decoded into the same `str -> str` parameters a REST
query string carries, so every operation parses them with the same `Params` rules: a JSON string
is taken as is, a number or boolean as the exact text that was sent (`0.01000000` keeps its
digits, which the client signed), an array or object as its compact JSON (`symbols` arrives as
`["BTCUSDT","ETHUSDT"]`, as REST takes it), and `null` as absent.

A frame that is no request is refused with Binance's codes: -1135 for JSON that is not a request
object (or an `id` or `params` of the wrong type), -1102 for a missing `id` or `method`.
"""

from typing import Any, NamedTuple

import msgspec

from bourse.api.binance.replies import ApiError, mandatory

RequestId = int | str | None
_fields = msgspec.json.Decoder(dict[str, msgspec.Raw])
_value = msgspec.json.Decoder()
_text = msgspec.json.Decoder(str)
_encode = msgspec.json.Encoder().encode
_VERSION = "v3/"  # "Request method names may be prefixed with explicit version"


class Request(NamedTuple):
    id: RequestId
    method: str
    params: dict[str, str]


class BadFrame(Exception):
    """A frame that is no valid request: the error to answer, and the request's id if it had a
    readable one."""

    def __init__(self, error: ApiError, request_id: RequestId = None) -> None:
        super().__init__(error.msg)
        self.error = error
        self.request_id = request_id


def not_valid(name: str) -> ApiError:
    return ApiError(-1135, f"JSON sent for parameter '{name}' is not valid.")


def decode(frame: str | bytes) -> Request:
    try:
        fields = _fields.decode(frame)
    except msgspec.DecodeError:
        raise BadFrame(ApiError(-1135, "Invalid JSON Request")) from None
    if "id" not in fields:
        raise BadFrame(mandatory("id"))
    request_id = _value.decode(fields["id"])
    if isinstance(request_id, bool) or not isinstance(request_id, int | str | None):
        raise BadFrame(not_valid("id"))
    method = _value.decode(fields["method"]) if "method" in fields else None
    if not isinstance(method, str) or not method:
        raise BadFrame(mandatory("method"), request_id)
    raw = fields.get("params")
    try:
        given = _fields.decode(raw) if raw is not None and bytes(raw) != b"null" else {}
    except msgspec.DecodeError:
        raise BadFrame(not_valid("params"), request_id) from None
    params = {}
    for name, value in given.items():
        text = _as_text(bytes(value))
        if text is not None:
            params[name] = text
    return Request(request_id, method.removeprefix(_VERSION), params)


def _as_text(raw: bytes) -> str | None:
    first = raw[:1]
    if first == b'"':
        return _text.decode(raw)
    if first in (b"[", b"{"):
        return _encode(_value.decode(raw)).decode()
    if raw == b"null":
        return None
    return raw.decode()


def response(
    request_id: RequestId,
    *,
    result: Any = None,
    error: ApiError | None = None,
    rate_limits: list[dict[str, Any]] | None = None,
) -> str:
    """The response envelope: `id`, `status`, then `result` or `error`, then `rateLimits`
    unless the request asked for none."""
    body: dict[str, Any]
    if error is None:
        body = {"id": request_id, "status": 200, "result": result}
    else:
        body = {"id": request_id, "status": error.status, "error": error.body()}
    if rate_limits is not None:
        body["rateLimits"] = rate_limits
    return _encode(body).decode()
