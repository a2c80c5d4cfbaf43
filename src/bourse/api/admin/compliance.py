"""What the compliance admin routes (customers, venues, policies) share: reading a JSON body into
a msgspec struct, UTC times given as ISO 8601, and answering a command's outcome.

Bad input is a 400 {code: -1102, msg} naming the field; a refusal by the engine is answered by
`answer()` with the engine's own sentence.
"""

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import msgspec
from fastapi import Body, HTTPException
from starlette.responses import Response

from bourse.api.admin.operator import answer
from bourse.api.binance.replies import ok
from bourse.domain.limits import field_problem
from bourse.events import Outcome

BAD_INPUT = -1102
log = logging.getLogger(__name__)
T = TypeVar("T")
E = TypeVar("E")


def bad(msg: str, status: int = 400, code: int = BAD_INPUT) -> HTTPException:
    return HTTPException(status, detail={"code": code, "msg": msg})


def parse(body: Any, kind: type[T]) -> T:
    """`body` as `kind`, or 400 naming the field that is wrong."""
    try:
        value = msgspec.convert(body, kind)
    except msgspec.ValidationError as exc:
        raise bad(str(exc)) from None
    if problem := field_problem(value):  # an id beyond 64 bits, an amount beyond 40 digits
        raise bad(problem)
    return value


def utc_ms(text: str, field: str) -> int:
    """An ISO 8601 date ("2030-01-31", midnight UTC) or date-time (UTC unless it says otherwise)
    as milliseconds since the epoch, or 400 naming `field`."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    except ValueError:
        raise bad(
            f"{field} {text!r} is not an ISO 8601 date or date-time, such as 2030-01-31 "
            "or 2030-01-31T12:00:00Z"
        ) from None
    return int(moment.timestamp() * 1000)


def answered(outcome: Outcome, body: Callable[[Outcome], Any]) -> Response:
    """The engine's refusal as a 400, or 200 with `body(outcome)` when the command ran."""
    if outcome.refused:
        return answer(outcome)
    try:
        rendered = body(outcome)
    except Exception:
        # The command is journaled and ran: a bug in rendering it must not answer "error" (a
        # retry would do it twice). The outcome's own events say what happened.
        log.exception("rendering the answer to %s (seq %d) failed", outcome.command, outcome.seq)
        return answer(outcome)
    return ok(rendered)


def first(outcome: Outcome, kind: type[E]) -> E:
    """The command's first event of `kind` (the command ran, so it is there)."""
    return next(e for e in outcome.events if isinstance(e, kind))


def body_doc(example: Any) -> Any:
    """A JSON body documented by one example (the route validates it with msgspec)."""
    return Body(..., openapi_examples={"example": {"value": example}})
