"""What the gateway answers: JSON bodies encoded by msgspec, and Binance's `{"code","msg"}` errors.

Every failure is raised as an `ApiError` and answered by the handler `install` registers: HTTP 4xx
(401 for key problems, 429/418 for rate limits), JSON content type, Binance's code and message
(errors.md of binance-spot-api-docs), never a 5xx for something the client sent.
"""

from collections.abc import Mapping
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from bourse.api.binance.errors import BinanceError

JSON = "application/json"
_encode = msgspec.json.Encoder().encode


class ApiError(Exception):
    """A refusal: Binance's code and message, the HTTP status, and for a few answers (a partly
    failed cancel-replace) a `data` object beside them."""

    def __init__(
        self,
        code: int,
        msg: str,
        status: int = 400,
        headers: Mapping[str, str] | None = None,
        data: Any = None,
    ) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.status = status
        self.headers = dict(headers or {})
        self.data = data

    def __reduce__(self) -> tuple[Any, ...]:  # raised in the engine process, answered by a gateway
        return ApiError, (self.code, self.msg, self.status, self.headers, self.data)

    def body(self) -> dict[str, Any]:
        """`{"code","msg"}`, with `data` when there is any."""
        if self.data is None:
            return {"code": self.code, "msg": self.msg}
        return {"code": self.code, "msg": self.msg, "data": self.data}

    @classmethod
    def of(cls, err: BinanceError, status: int = 400) -> "ApiError":
        return cls(err.code, err.msg, status)


def ok(body: Any, headers: Mapping[str, str] | None = None) -> Response:
    """200 with `body` as JSON (msgspec: structs, dicts, lists, ints and strings)."""
    return Response(_encode(body), media_type=JSON, headers=headers)


def error_response(exc: ApiError) -> Response:
    return Response(
        _encode(exc.body()),
        status_code=exc.status,
        media_type=JSON,
        headers=exc.headers,
    )


async def handle_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


# --- the errors more than one route raises (messages as in errors.md) ------------------------


def mandatory(name: str) -> ApiError:
    return ApiError(
        -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def illegal_chars(name: str, legal: str) -> ApiError:
    return ApiError(
        -1100, f"Illegal characters found in parameter '{name}'; legal range is '{legal}'."
    )


def overflowed(name: str) -> ApiError:
    """An integer beyond what its field holds (bourse.domain.limits)."""
    return ApiError(-1108, f"Parameter '{name}' overflowed.")


def invalid_value(name: str) -> ApiError:
    return ApiError(-1130, f"Data sent for parameter '{name}' is not valid.")


def bad_symbol() -> ApiError:
    return ApiError(-1121, "Invalid symbol.")


def no_such_order() -> ApiError:
    return ApiError(-2013, "Order does not exist.")


def bad_key_format() -> ApiError:
    return ApiError(-2014, "API-key format invalid.", 401)


KEY_REJECTED = -2015


def key_rejected() -> ApiError:
    return ApiError(KEY_REJECTED, "Invalid API-key, IP, or permissions for action.", 401)
