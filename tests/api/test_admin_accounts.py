"""Operator routes for accounts and API keys, and the keys they issue signing real requests."""

import base64
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from starlette.requests import Request
from starlette.responses import Response

from bourse.api.binance.gateway import gateway
from bourse.api.binance.params import Params
from bourse.api.binance.replies import ApiError, ok
from bourse.server.exchange import now_ms
from tests.api.conftest import Api, Signer

OPERATOR = {"Authorization": "Bearer operator-token"}
R = {"reason": "test"}  # every admin action names why
PROBE = "/test/whoami"


async def _whoami(request: Request) -> Response:
    """A signed route of the tests' own: who the request's key acts for (trade=1: as a trade)."""
    params = await Params.read(request)
    caller = gateway(request).authenticate(request, params, trade=params.has("trade"))
    return ok({"accountId": caller.account_id, "canTrade": caller.can_trade})


async def _caught_up(request: Request) -> Response:
    await gateway(request).service.store_caught_up()
    return ok({})


@pytest.fixture
def admin(api: Api) -> Iterator[Api]:
    app = api.client.app
    app.add_api_route(PROBE, _whoami, methods=["GET"])  # type: ignore[attr-defined]
    app.add_api_route("/test/caught-up", _caught_up, methods=["GET"])  # type: ignore[attr-defined]
    yield api
    # Let the store's last notification reach the event loop before the test client closes it.
    assert api.client.get("/test/caught-up").status_code == 200


def post(api: Api, path: str, body: Any = None, **kw: Any) -> Any:
    return api.client.post(f"/admin/v1{path}", json=body, headers=OPERATOR, **kw)


def _auth(api: Api, key: str, query: bytes, *, trade: bool, host: str) -> int:
    """The account a signed query acts for when sent from `host`, or the ApiError code."""
    headers = [(b"x-mbx-apikey", key.encode())]
    request = Request({"type": "http", "headers": headers, "client": (host, 1234)})
    try:
        gw = api.client.app.state.gateway  # type: ignore[attr-defined]
        return gw.authenticate(request, Params(query), trade=trade).account_id  # type: ignore[no-any-return]
    except ApiError as exc:
        return exc.code


def _hmac_query(secret: str) -> bytes:
    import hashlib
    import hmac

    text = f"timestamp={now_ms()}"
    sig = hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()
    return f"{text}&signature={sig}".encode()


def test_open_account_with_deposits(admin: Api) -> None:
    state = admin.exchange.engine.state
    expected_id = state.next_account_id
    r = post(admin, "/accounts", {"deposits": {"USDT": "1000", "BTC": "0.5"}, "reason": "t"})
    assert r.status_code == 200, r.text
    assert r.json() == {
        "accountId": expected_id,
        "balances": [
            {"asset": "BTC", "free": "0.50000000", "locked": "0.00000000"},
            {"asset": "USDT", "free": "1000.00000000", "locked": "0.00000000"},
        ],
    }
    assert state.accounts[expected_id].balances["USDT"].free == 1000 * 10**8
    empty = post(admin, "/accounts", {"reason": "t"})
    assert empty.status_code == 200 and empty.json() == {
        "accountId": expected_id + 1,
        "balances": [],
    }


@pytest.mark.parametrize(
    ("deposits", "status", "error"),
    [
        ({"USDT": "1", "XYZ": "1"}, 404, "ASSET_NOT_FOUND"),  # unknown asset, after a good one
        ({"USDT": "1", "BTC": "0.000000001"}, 400, "BAD_REQUEST"),  # finer than the precision
        ({"USDT": "0"}, 400, "BAD_REQUEST"),
        ({"USDT": "-5"}, 400, "BAD_REQUEST"),
        ({"USDT": "lots"}, 400, "BAD_REQUEST"),
        ({"USDT": 1000}, 400, "BAD_REQUEST"),  # amounts are decimal strings, never JSON numbers
    ],
)
def test_a_bad_deposit_opens_nothing(
    admin: Api, deposits: dict[str, Any], status: int, error: str
) -> None:
    state = admin.exchange.engine.state
    before = (state.last_seq, state.next_account_id)
    r = post(admin, "/accounts", {"deposits": deposits, "reason": "t"})
    assert (r.status_code, r.json()["error"]) == (status, error) and r.json()["message"], r.text
    assert (state.last_seq, state.next_account_id) == before


def test_engine_refusal_and_unknown_fields_answer_error_and_message(admin: Api) -> None:
    r = post(admin, "/accounts", {"feeTier": 7, "reason": "t"})
    assert r.status_code == 400 and r.json()["error"] == "INVALID_PARAMETER"
    assert "fee tier 7 is not defined" in r.json()["message"]
    r = post(admin, "/accounts", {"deposit": {"USDT": "1"}, "reason": "t"})  # a typo: refused
    assert r.status_code == 400 and r.json()["error"] == "BAD_REQUEST"


def test_routes_need_the_operator_token(admin: Api) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}):
        r = admin.client.post("/admin/v1/accounts", json={}, headers=headers)
        assert r.status_code == 401 and r.json()["error"] == "UNAUTHORIZED"
        r = admin.client.post("/admin/v1/keys", json={"accountId": 1}, headers=headers)
        assert r.status_code == 401
        assert admin.client.get("/admin/v1/accounts/1/keys", headers=headers).status_code == 401
        assert (
            admin.client.delete(f"/admin/v1/keys/{admin.key}", headers=headers).status_code == 401
        )


def test_hmac_key_from_the_route_signs_requests(admin: Api) -> None:
    opened = post(admin, "/accounts", {"deposits": {"USDT": "1000"}, "reason": "t"})
    account_id = opened.json()["accountId"]
    r = post(admin, "/keys", {"accountId": account_id, "reason": "t"})
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    created = r.json()
    assert set(created) == {"apiKey", "secretKey"}
    key, secret = created["apiKey"], created["secretKey"]
    stored = admin.exchange.engine.state.api_keys[key]
    assert stored.account_id == account_id and secret not in stored.credential
    signer = Signer(admin.client, account_id, key, secret)
    assert signer.signed("GET", PROBE, trade=1).json() == {
        "accountId": account_id,
        "canTrade": True,
    }
    forged = signer.signed("GET", PROBE, secret=admin.secret)
    assert forged.status_code == 400 and forged.json()["code"] == -1022


def test_read_only_key_is_refused_on_trade(admin: Api) -> None:
    created = post(admin, "/keys", {"accountId": 1, "permissions": ["read"], **R}).json()
    signer = Signer(admin.client, 1, created["apiKey"], created["secretKey"])
    assert signer.signed("GET", PROBE).json() == {"accountId": 1, "canTrade": False}
    refused = signer.signed("GET", PROBE, trade=1)
    assert refused.status_code == 401 and refused.json()["code"] == -2015
    query = _hmac_query(created["secretKey"])
    assert _auth(admin, created["apiKey"], query, trade=True, host="127.0.0.1") == -2015
    for permissions in (["trade"], [], ["read", "admin"]):
        r = post(admin, "/keys", {"accountId": 1, "permissions": permissions, **R})
        assert r.status_code == 400 and r.json()["error"] == "BAD_REQUEST", r.text


def test_ip_allow_list(admin: Api) -> None:
    body = {"accountId": 1, "ip": ["10.0.0.0/8", "192.0.2.7"], **R}
    created = post(admin, "/keys", body).json()
    key, query = created["apiKey"], _hmac_query(created["secretKey"])
    assert _auth(admin, key, query, trade=True, host="10.1.2.3") == 1
    assert _auth(admin, key, query, trade=True, host="192.0.2.7") == 1
    assert _auth(admin, key, query, trade=True, host="192.0.2.8") == -2015
    listed = admin.client.get("/admin/v1/accounts/1/keys", headers=OPERATOR).json()
    assert next(k for k in listed if k["apiKey"] == key)["ip"] == ["10.0.0.0/8", "192.0.2.7/32"]
    seq = admin.exchange.engine.state.last_seq
    r = post(admin, "/keys", {"accountId": 1, "ip": ["10.0.0.0/8", "nonsense"], **R})
    assert r.status_code == 400 and r.json()["error"] == "BAD_REQUEST"
    assert "nonsense" in r.json()["message"]
    assert admin.exchange.engine.state.last_seq == seq


def test_ed25519_key_registration(admin: Api) -> None:
    private = Ed25519PrivateKey.generate()
    pem = private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    body = {"accountId": 1, "publicKey": pem.decode(), "permissions": ["read"], **R}
    r = post(admin, "/keys", body)
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"apiKey", "keyType"} and r.json()["keyType"] == "ED25519"
    key = r.json()["apiKey"]
    text = f"timestamp={now_ms()}"
    sig = quote(base64.b64encode(private.sign(text.encode())).decode(), safe="")
    query = f"{text}&signature={sig}".encode()
    assert _auth(admin, key, query, trade=False, host="127.0.0.1") == 1
    assert _auth(admin, key, query, trade=True, host="127.0.0.1") == -2015
    other = X25519PrivateKey.generate().public_key()
    wrong_kind = other.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    for bad in (wrong_kind, "not a key"):
        r = post(admin, "/keys", {"accountId": 1, "publicKey": bad, **R})
        assert r.status_code == 400 and r.json()["error"] == "BAD_REQUEST", r.text


def test_unknown_account_is_a_404_account_not_found(admin: Api) -> None:
    r = post(admin, "/keys", {"accountId": 999, **R})
    assert r.status_code == 404, r.text
    assert r.json()["error"] == "ACCOUNT_NOT_FOUND" and "999" in r.json()["message"]
    r = admin.client.get("/admin/v1/accounts/999/keys", headers=OPERATOR)
    assert r.status_code == 404 and r.json()["error"] == "ACCOUNT_NOT_FOUND"


def test_revoke_and_list(admin: Api) -> None:
    created = post(admin, "/keys", {"accountId": 1, "permissions": ["read"], **R}).json()
    key = created["apiKey"]
    listed = admin.client.get("/admin/v1/accounts/1/keys", headers=OPERATOR)
    assert created["secretKey"] not in listed.text and "credential" not in listed.text
    rows = {k["apiKey"]: k for k in listed.json()}
    assert rows.keys() == {admin.key, key}
    assert rows[key] == {"apiKey": key, "keyType": "HMAC_SHA256", "permissions": ["read"], "ip": []}
    assert rows[admin.key]["permissions"] == ["read", "trade"]

    r = admin.client.delete(f"/admin/v1/keys/{key}", headers=OPERATOR, params={"reason": "lost"})
    assert r.json() == {"apiKey": key, "accountId": 1, "revoked": True}
    refused = Signer(admin.client, 1, key, created["secretKey"]).signed("GET", PROBE)
    assert refused.status_code == 401 and refused.json()["code"] == -2015
    again = admin.client.delete(f"/admin/v1/keys/{key}", headers=OPERATOR, params={"reason": "x"})
    assert again.status_code == 404 and again.json()["error"] == "API_KEY_NOT_FOUND"
    listed = admin.client.get("/admin/v1/accounts/1/keys", headers=OPERATOR).json()
    assert [k["apiKey"] for k in listed] == [admin.key]
    assert admin.signed("GET", PROBE).json()["accountId"] == 1  # other keys unaffected
