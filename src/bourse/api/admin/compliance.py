"""What the admin routes share: reading a JSON body into a msgspec struct, the reason every
state-changing one requires, UTC times given as ISO 8601, and answering a command's outcome.

Bad input is a 400 {error, message} naming the field (api/admin/errors.py); a refusal by the
engine is answered by `answer()` with the engine's own sentence.
"""

import logging
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar

import msgspec
from fastapi import Body
from starlette.responses import Response

from bourse.api.admin.errors import REASON_REQUIRED, answer, bad_request
from bourse.api.binance.replies import ok
from bourse.domain.limits import field_problem
from bourse.events import Outcome

log = logging.getLogger(__name__)
T = TypeVar("T")
E = TypeVar("E")
# Every admin action names why (DESIGN invariant 5): at least one non-blank character.
REASON_MAX = 500
REASON_PATTERN = r"\S"
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=REASON_MAX, pattern=REASON_PATTERN)]


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # C0 and C1 controls: a line break, a tab...
_CODE = re.compile(r"(?=.*[A-Z])[A-Z0-9]{1,12}")  # as the engine's codes: ASCII, one letter


def one_line(field: str, value: str) -> None:
    """400 unless `value` (a name a person reads in lists and on statements) is one line of
    printable text. Checked here, at the edge, so that journals from before replay alike."""
    if found := _CONTROL.search(value):
        raise bad_request(f"{field} holds a control character ({found.group()!r}): one line only")


def code_of(field: str, value: str) -> None:
    """400 unless `value` is a code of 1 to 12 letters A-Z and digits 0-9 with a letter in it."""
    if not _CODE.fullmatch(value):
        raise bad_request(
            f"{field} {value!r} must be 1 to 12 letters A-Z and digits 0-9, with a letter"
        )


def parse(body: Any, kind: type[T]) -> T:
    """`body` as `kind`, or 400 naming the field that is wrong (REASON_REQUIRED for `reason`)."""
    try:
        value = msgspec.convert(body, kind)
    except msgspec.ValidationError as exc:
        text = str(exc)
        if "`reason`" in text or "`$.reason`" in text:
            given = body.get("reason") if isinstance(body, dict) else None
            if isinstance(given, str) and len(given) > REASON_MAX:  # one was given: too long
                raise bad_request(
                    f"the reason is {len(given)} characters; at most {REASON_MAX} are kept in "
                    "the journal",
                    REASON_REQUIRED,
                ) from None
            raise bad_request(
                f"a reason is required (kept in the journal): {text}", REASON_REQUIRED
            ) from None
        raise bad_request(text) from None
    if problem := field_problem(value):  # an id beyond 64 bits, an amount beyond 40 digits
        raise bad_request(problem)
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
        raise bad_request(
            f"{field} {text!r} is not an ISO 8601 date or date-time, such as 2030-01-31 "
            "or 2030-01-31T12:00:00Z"
        ) from None
    return int(moment.timestamp() * 1000)


def answered(outcome: Outcome, body: Callable[[Outcome], Any]) -> Response:
    """The engine's refusal as an admin error, or 200 with `body(outcome)` when the command ran."""
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


def body_doc(example: Any, kind: type | None = None) -> Any:
    """A JSON body documented by one example and, given `kind`, by the msgspec struct's schema
    (the route validates it with msgspec; the schema tells clients what is required)."""
    extra = _inlined(msgspec.json.schema(kind)) if kind is not None else None
    return Body(..., openapi_examples={"example": {"value": example}}, json_schema_extra=extra)


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """msgspec's schema with its `$defs` references resolved in place (OpenAPI has no `$defs`)."""
    defs = schema.get("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    top = resolve(schema)
    return {k: v for k, v in top.items() if k in ("properties", "required")}
