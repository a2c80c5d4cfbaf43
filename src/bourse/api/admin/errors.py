"""The admin API's errors: `{"error": NAME, "message": sentence}`, never Binance's trading codes.

One vocabulary for every admin route, so an operator's script can branch on `error`:
- 400 `BAD_REQUEST` (malformed or invalid input), `REASON_REQUIRED` (no reason given);
- 401 `UNAUTHORIZED` (no valid operator or staff token);
- 403 `NOT_PERMITTED` (the staff member's role does not allow it), `OUT_OF_SCOPE` (it concerns
  a customer, venue or country outside their scope), `SELF_APPROVAL` (a proposer approving
  their own proposal, or someone not entitled to decide it);
- 404 `<THING>_NOT_FOUND` (`ACCOUNT_NOT_FOUND`, `CUSTOMER_NOT_FOUND`, `CHANGE_NOT_FOUND`, ...);
- 409 the engine refused the command: `error` is its reject code (`JURISDICTION_POLICY`,
  `PREVIEW_STALE`, `INSUFFICIENT_BALANCE`, ...), `message` its sentence, `seq` where the refusal
  is journaled; or a state that refuses the request (`NO_SANCTIONS_LISTS`);
- 500 `INTERNAL_ERROR` (a bug, logged), 503 `EXCHANGE_STOPPED` (the engine stopped on a broken
  invariant: nothing more is taken until a restart replays the journal).
A refusal of a journaled command is final: it is never a 5xx or anything else inviting a retry.
"""

from collections.abc import Mapping
from typing import Any

import msgspec
from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError
from starlette.responses import Response

from bourse.domain.rejections import RejectCode
from bourse.events import CommandRejected, Outcome
from bourse.server.exchange import ExchangeStopped

PREFIX = "/admin/"
BAD_REQUEST = "BAD_REQUEST"
REASON_REQUIRED = "REASON_REQUIRED"

# Refusals naming something that does not exist answer 404 as the edge's own lookups do.
_NOT_FOUND = {
    RejectCode.UNKNOWN_ACCOUNT: "ACCOUNT_NOT_FOUND",
    RejectCode.UNKNOWN_CUSTOMER: "CUSTOMER_NOT_FOUND",
    RejectCode.UNKNOWN_SYMBOL: "SYMBOL_NOT_FOUND",
    RejectCode.UNKNOWN_ASSET: "ASSET_NOT_FOUND",
    RejectCode.UNKNOWN_ORDER: "ORDER_NOT_FOUND",
    RejectCode.UNKNOWN_WITHDRAWAL: "WITHDRAWAL_NOT_FOUND",
    RejectCode.UNKNOWN_STAFF: "STAFF_NOT_FOUND",
    RejectCode.UNKNOWN_PROPOSAL: "PROPOSAL_NOT_FOUND",
}
# Refusals of who asks (their role or scope) answer 403, as a read they may not make does.
_FORBIDDEN = {RejectCode.NOT_PERMITTED, RejectCode.OUT_OF_SCOPE, RejectCode.SELF_APPROVAL}
# Refusals of the input itself (what a fixed request would get past) answer 400.
_BAD_INPUT = {
    RejectCode.REASON_REQUIRED,
    RejectCode.INVALID_PARAMETER,
    RejectCode.PRICE_FILTER,
    RejectCode.LOT_SIZE,
    RejectCode.MARKET_LOT_SIZE,
    RejectCode.NOTIONAL,
    RejectCode.UNSUPPORTED_ORDER_TYPE,
}


def error_body(error: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": error, "message": message, **extra}


class AdminError(HTTPException):
    """Raised by an admin route; the app's HTTPException handler answers its detail as is."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(status, detail=error_body(error, message))


def bad_request(message: str, error: str = BAD_REQUEST) -> AdminError:
    return AdminError(400, error, message)


def not_found(what: str, ident: object) -> AdminError:
    """404 `<WHAT>_NOT_FOUND`: "`what` `ident` does not exist" (what: "account", "API key")."""
    name = what.upper().replace(" ", "_").replace("-", "_")  # "cut-off": CUT_OFF_NOT_FOUND
    return AdminError(404, f"{name}_NOT_FOUND", f"{what} {ident} does not exist")


def conflict(error: str, message: str) -> AdminError:
    return AdminError(409, error, message)


def refusal(code: RejectCode) -> tuple[int, str]:
    """The status and error name of an engine refusal."""
    if code in _NOT_FOUND:
        return 404, _NOT_FOUND[code]
    if code in _FORBIDDEN:
        return 403, code.name
    return (400 if code in _BAD_INPUT else 409), code.name


def answer(outcome: Outcome) -> Response:
    """200 with the outcome, or the engine's refusal as an admin error citing its seq."""
    for event in outcome.events:
        if isinstance(event, CommandRejected):
            status, error = refusal(event.code)
            body = error_body(error, event.reason, seq=outcome.seq)
            return Response(msgspec.json.encode(body), status, media_type="application/json")
    return Response(msgspec.json.encode(outcome), media_type="application/json")


def is_admin(path: str) -> bool:
    return path.startswith(PREFIX)


def from_http(status: int, detail: object) -> dict[str, Any]:
    """An admin error body for a framework HTTPException (unknown route, wrong method)."""
    if isinstance(detail, Mapping) and "error" in detail:
        return dict(detail)
    names = {401: "UNAUTHORIZED", 403: "NOT_PERMITTED", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}
    return error_body(names.get(status, BAD_REQUEST), str(detail))


def from_failure(exc: Exception) -> dict[str, Any]:
    """An exception no route turned into an answer: the exchange stopped (503), or a bug (500)."""
    if isinstance(exc, ExchangeStopped):
        return error_body("EXCHANGE_STOPPED", str(exc))
    return error_body("INTERNAL_ERROR", "internal error; the exchange logged it")


def from_validation(exc: RequestValidationError) -> dict[str, Any]:
    """A FastAPI validation failure (pydantic body, path or query) as 400, naming the field."""
    first = exc.errors()[0] if exc.errors() else {}
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
    where = ".".join(loc) or "request"
    error = REASON_REQUIRED if loc[-1:] == ["reason"] else BAD_REQUEST
    return error_body(error, f"{where}: {first.get('msg', 'malformed request')}")
