"""Every state-changing admin operation requires a reason (DESIGN invariant 5), and the admin API
answers failures in its own vocabulary, {"error", "message"}, never Binance's trading codes."""

import re
from typing import Any

import pytest

from bourse.commands import Deposit, decode_command
from bourse.server.exchange import ExchangeStopped
from tests.api.conftest import Api

OPERATOR = {"Authorization": "Bearer operator-token"}
CHANGING = ("post", "put", "patch", "delete")
# Operations that change no engine state, each with why: they journal no admin command.
NOT_COMMANDS = {
    ("post", "/admin/v1/snapshot"): "writes a snapshot file of the state as it is",
    ("post", "/admin/v1/screen"): "screens names and answers the hits",
    ("post", "/admin/v1/policies/preview"): "a preview changes nothing",
    ("post", "/admin/v1/policies/{basis}/{country}/reversal/preview"): "a preview",
    ("post", "/admin/v1/staff/offboarding/preview"): "a preview of offboarding changes nothing",
    ("post", "/admin/v1/banks/{bic}/cut-off/preview"): "a preview of a cut-off changes nothing",
    ("post", "/admin/v1/partners/{code}/end/preview"): "a preview of a partner's end",
    # The system's own screening work, which runs on a schedule too: its commands cite the list
    # versions and the matcher as their evidence (actor system:screening), not a person's why.
    ("post", "/admin/v1/screening/rescreen"): "system screening, evidence-cited",
    ("post", "/admin/v1/lists/refresh"): "system list refresh, evidence-cited",
    ("post", "/admin/v1/audit/heads"): "signs the audit log as it stands; changes nothing in it",
}


def _nonblank(schema: dict[str, Any]) -> bool:
    return (
        schema.get("type") == "string"
        and (schema.get("minLength", 0) >= 1 and bool(re.search(schema.get("pattern", ""), "x")))
        and not re.search(schema.get("pattern", "^$"), "   ")
    )


def _requires_reason(op: dict[str, Any]) -> bool:
    for param in op.get("parameters", []):
        if param["name"] == "reason" and param["in"] == "query":
            return bool(param.get("required")) and _nonblank(param["schema"])
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
    schema = body.get("schema", {})
    if "$ref" in schema:  # a pydantic model
        schema = _components[schema["$ref"].rsplit("/", 1)[-1]]
    reason = schema.get("properties", {}).get("reason")
    return (
        bool(op.get("requestBody", {}).get("required"))
        and "reason" in schema.get("required", [])
        and reason is not None
        and _nonblank(reason)
    )


_components: dict[str, Any] = {}


def test_every_state_changing_admin_operation_requires_a_nonblank_reason(api: Api) -> None:
    doc = api.client.app.openapi()  # type: ignore[attr-defined]
    _components.update(doc["components"]["schemas"])
    checked, missing = [], []
    for path, ops in doc["paths"].items():
        if not path.startswith("/admin/"):
            continue
        for method, op in ops.items():
            if method not in CHANGING or (method, path) in NOT_COMMANDS:
                continue
            checked.append((method, path))
            if not _requires_reason(op):
                missing.append(f"{method.upper()} {path}")
    assert not missing, f"admin operations without a required reason: {missing}"
    assert len(checked) >= 15  # the walk found the admin API
    assert ("post", "/admin/v1/deposits") in checked


def call(api: Api, method: str, path: str, body: Any = None, **kw: Any) -> Any:
    return api.client.request(method, f"/admin/v1{path}", json=body, headers=OPERATOR, **kw)


DEPOSIT = {"account_id": 1, "asset": "BTC", "amount": "0.5"}

REASONLESS = [
    ("POST", "/deposits", DEPOSIT),
    ("POST", "/deposits", {**DEPOSIT, "reason": "  "}),
    ("POST", "/accounts", {"deposits": {"USDT": "1"}}),
    ("POST", "/accounts", {"deposits": {}, "reason": ""}),
    ("POST", "/keys", {"accountId": 1}),
    ("POST", "/withdrawals", {**DEPOSIT, "destination": "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfj"}),
    ("POST", "/commands", {"type": "SetSymbolStatus", "symbol": "ETHBTC", "status": "HALT"}),
    ("POST", "/commands", {"type": "Deposit", "account_id": 1, "asset": "BTC", "amount_raw": 1}),
    ("POST", "/customers/1/accounts", {}),
    ("DELETE", "/keys/nokey", None),
]


@pytest.mark.parametrize(("method", "path", "body"), REASONLESS)
def test_an_admin_action_without_a_reason_is_refused_before_it_is_journaled(
    api: Api, method: str, path: str, body: Any
) -> None:
    seq = api.exchange.engine.state.last_seq
    r = call(api, method, path, body)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "REASON_REQUIRED", r.json()
    assert api.exchange.engine.state.last_seq == seq


def test_a_reason_too_long_is_said_to_be_too_long_not_missing(api: Api) -> None:
    seq = api.exchange.engine.state.last_seq
    r = call(api, "POST", "/deposits", {**DEPOSIT, "reason": "x" * 501, "tx_ref": "T-9"})
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "REASON_REQUIRED"
    assert r.json()["message"] == (
        "the reason is 501 characters; at most 500 are kept in the journal"
    ), r.json()
    assert api.exchange.engine.state.last_seq == seq


def test_a_deposit_journals_and_shows_its_reason(api: Api) -> None:
    r = call(api, "POST", "/deposits", {**DEPOSIT, "reason": "wire 7781", "tx_ref": "T-1"})
    assert r.status_code == 200, r.text
    credited = [e for e in r.json()["events"] if e["type"] == "DepositCredited"]
    assert credited[0]["reason"] == "wire 7781" and credited[0]["tx_ref"] == "T-1"
    seq = r.json()["seq"]
    record = next(data for s, data in api.exchange.journal.replay(seq) if s == seq)
    journaled = decode_command(record)
    assert isinstance(journaled, Deposit) and journaled.reason == "wire 7781"


def test_commands_refuses_a_command_that_records_no_reason(api: Api) -> None:
    order = {"type": "CancelAllOrders", "account_id": 1, "symbol": "BTCUSDT", "reason": "x"}
    r = call(api, "POST", "/commands", order)
    assert r.status_code == 400 and r.json()["error"] == "BAD_REQUEST", r.text
    assert "CancelAllOrders" in r.json()["message"]


ERRORS = [
    ("GET", "/accounts/42", None, 404, "ACCOUNT_NOT_FOUND", "account 42 does not exist"),
    ("GET", "/accounts/42/keys", None, 404, "ACCOUNT_NOT_FOUND", "account 42 does not exist"),
    ("GET", "/customers/42", None, 404, "CUSTOMER_NOT_FOUND", "customer 42 does not exist"),
    ("GET", "/closures/999", None, 404, "CHANGE_NOT_FOUND", "change 999 does not exist"),
    ("GET", "/customers?venue=NOPE", None, 404, "VENUE_NOT_FOUND", "venue NOPE does not exist"),
    ("GET", "/customers?residence=ZZ", None, 400, "BAD_REQUEST", "residence 'ZZ' is not"),
    (
        "POST",
        "/deposits",
        {**DEPOSIT, "account_id": 42, "reason": "r"},
        404,
        "ACCOUNT_NOT_FOUND",
        "account 42 does not exist",
    ),
    (
        "POST",
        "/deposits",
        {**DEPOSIT, "asset": "XYZ", "reason": "r"},
        404,
        "ASSET_NOT_FOUND",
        "asset 'XYZ' does not exist",
    ),
    (
        "POST",
        "/deposits",
        {**DEPOSIT, "amount": "0.123456789", "reason": "r"},
        400,
        "BAD_REQUEST",
        "",
    ),
    ("POST", "/keys", {"accountId": 42, "reason": "r"}, 404, "ACCOUNT_NOT_FOUND", "account 42"),
    ("DELETE", "/keys/nokey?reason=r", None, 404, "API_KEY_NOT_FOUND", "API key nokey does not"),
    ("POST", "/alerts/9/confirm", {"reason": "r"}, 404, "ALERT_NOT_FOUND", "alert 9 does not"),
    ("POST", "/alerts/9/dismiss", {"reason": "r"}, 404, "ALERT_NOT_FOUND", "alert 9 does not"),
    (
        "DELETE",
        "/policies/schedule/9?reason=r",
        None,
        404,
        "SCHEDULED_CHANGE_NOT_FOUND",
        "scheduled change 9 does not exist",
    ),
    ("GET", "/accounts/x", None, 400, "BAD_REQUEST", "account_id"),
    ("GET", "/nowhere", None, 404, "NOT_FOUND", ""),
]


@pytest.mark.parametrize(("method", "path", "body", "status", "error", "message"), ERRORS)
def test_admin_errors_have_their_own_codes(
    api: Api, method: str, path: str, body: Any, status: int, error: str, message: str
) -> None:
    r = call(api, method, path, body)
    assert (r.status_code, r.json()["error"]) == (status, error), r.text
    assert message in r.json()["message"]
    assert "code" not in r.json()  # not Binance's


def test_an_engine_refusal_is_a_409_naming_its_reject_code_and_seq(api: Api) -> None:
    body = {"type": "SetSymbolStatus", "symbol": "BTCUSDT", "status": "TRADING", "reason": "r"}
    r = call(api, "POST", "/commands", body)
    assert r.status_code == 409, r.text
    assert r.json()["error"] == "NO_CHANGE" and r.json()["seq"] > 0


def test_a_missing_token_is_unauthorized(api: Api) -> None:
    r = api.client.get("/admin/v1/accounts/1")
    assert r.status_code == 401 and r.json()["error"] == "UNAUTHORIZED"


def test_a_stopped_exchange_answers_an_admin_error(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def stopped(cmd: Any) -> Any:
        raise ExchangeStopped("the exchange stopped at seq 7")

    monkeypatch.setattr(api.service, "execute", stopped)
    body = {"type": "SetSymbolStatus", "symbol": "ETHBTC", "status": "HALT", "reason": "r"}
    r = call(api, "POST", "/commands", body)
    assert r.status_code == 503, r.text
    assert r.json() == {"error": "EXCHANGE_STOPPED", "message": "the exchange stopped at seq 7"}
