"""Routes of Binance's other products that spot clients call: truthful answers for a spot-only
exchange, and Binance's -1020 for everything else under those prefixes."""

from pathlib import Path
from urllib.parse import urlsplit

import ccxt
import httpx
import pytest

from bourse.demo import ASSETS
from tests.api.conftest import Api
from tests.server.server import Server

NOT_SUPPORTED = "This operation is not supported. This exchange is spot only: {} is not supported."


def test_all_coins_lists_every_asset_with_the_callers_balances(api: Api) -> None:
    r = api.signed("GET", "/sapi/v1/capital/config/getall")
    assert r.status_code == 200
    coins = {c["coin"]: c for c in r.json()}
    assert set(coins) == set(ASSETS)
    assert coins["BTC"] == {
        "coin": "BTC",
        "depositAllEnable": False,
        "withdrawAllEnable": False,
        "name": "BTC",
        "free": "10.00000000",
        "locked": "0.00000000",
        "freeze": "0.00000000",
        "withdrawing": "0.00000000",
        "ipoing": "0.00000000",
        "ipoable": "0.00000000",
        "storage": "0.00000000",
        "isLegalMoney": False,
        "trading": True,
        "networkList": [],
    }
    other = {c["coin"]: c for c in api.other.signed("GET", "/sapi/v1/capital/config/getall").json()}
    assert (other["BTC"]["free"], other["USDT"]["free"]) == ("5.00000000", "500000.00000000")


def test_all_coins_is_signed(api: Api) -> None:
    r = api.public("GET", "/sapi/v1/capital/config/getall")
    assert (r.status_code, r.json()["code"]) == (401, -2014)
    r = api.signed("GET", "/sapi/v1/capital/config/getall", secret="wrong")
    assert r.json()["code"] == -1022


def test_no_margin_no_derivatives(api: Api) -> None:
    assert api.public("GET", "/sapi/v1/margin/allPairs").json() == []
    assert api.signed("GET", "/sapi/v1/margin/isolated/allPairs").json() == []
    assert api.public("GET", "/sapi/v1/system/status").json() == {"status": 0, "msg": "normal"}
    for family in ("fapi", "dapi"):
        info = api.public("GET", f"/{family}/v1/exchangeInfo").json()
        assert isinstance(info.pop("serverTime"), int)
        assert info == {
            "timezone": "UTC",
            "rateLimits": [],
            "exchangeFilters": [],
            "assets": [],
            "symbols": [],
        }
    options = api.public("GET", "/eapi/v1/exchangeInfo").json()
    assert options["optionSymbols"] == [] and options["optionContracts"] == []


def test_other_products_answer_not_supported_as_json(api: Api) -> None:
    for method, path in (
        ("GET", "/fapi/v1/order"),
        ("POST", "/sapi/v1/margin/order"),
        ("DELETE", "/dapi/v1/allOpenOrders"),
        ("PUT", "/eapi/v1/listenKey"),
        ("GET", "/papi/v1/balance"),
    ):
        r = api.client.request(method, path, params={"symbol": "BTCUSDT"})
        assert r.status_code == 400 and r.headers["content-type"] == "application/json"
        assert r.json() == {"code": -1020, "msg": NOT_SUPPORTED.format(path)}


def test_unknown_spot_paths_still_explain_themselves(api: Api) -> None:
    r = api.public("GET", "/api/v3/noSuchThing")
    assert r.status_code == 404
    body = r.json()
    assert isinstance(body["code"], int) and isinstance(body["msg"], str)


def test_compat_routes_are_documented(api: Api) -> None:
    paths = api.public("GET", "/openapi.json").json()["paths"]
    for path in (
        "/sapi/v1/capital/config/getall",
        "/sapi/v1/margin/allPairs",
        "/sapi/v1/margin/isolated/allPairs",
        "/sapi/v1/system/status",
        "/fapi/v1/exchangeInfo",
        "/dapi/v1/exchangeInfo",
        "/api/v3/rateLimit/order",
    ):
        assert "get" in paths[path], path
    signed = paths["/sapi/v1/capital/config/getall"]["get"]["parameters"]
    assert {p["name"] for p in signed} >= {"timestamp", "signature", "X-MBX-APIKEY"}
    assert not any(p.startswith("/fapi/{") for p in paths)  # the catch-alls stay out


@pytest.mark.slow
def test_ccxt_with_keys_and_default_options_loads_markets(tmp_path: Path) -> None:
    """ccxt's load_markets with keys and default options calls every compat route (coins, cross
    and isolated margin pairs, USDⓈ-M and COIN-M exchangeInfo) besides the spot exchangeInfo."""
    server = Server(tmp_path / "data")
    try:
        admin = httpx.Client(base_url=f"{server.url}/admin/v1", headers=server.headers)
        account = admin.post("/accounts", json={"deposits": {"BTC": "2"}, "reason": "ccxt"})
        key = admin.post("/keys", json={"accountId": account.json()["accountId"], "reason": "t"})
        admin.close()
        ex = ccxt.binance(
            {
                "apiKey": key.json()["apiKey"],
                "secret": key.json()["secretKey"],
                "enableRateLimit": False,
            }
        )
        ex.urls["api"] = {
            k: server.url + urlsplit(v).path if isinstance(v, str) else v
            for k, v in ex.urls["api"].items()
        }
        markets = ex.load_markets()
        assert {"BTC/USDT", "ETH/USDT", "ETH/BTC"} <= set(markets)
        assert all(m["spot"] and not m["contract"] for m in markets.values())
        ours = {c for c, v in ex.currencies.items() if v.get("info")}  # ccxt adds its own BNFCR
        assert ours == set(ASSETS)
        assert ex.currencies["BTC"]["active"] is True and ex.currencies["BTC"]["networks"] == {}
        assert ex.sapiGetMarginAllPairs() == [] and ex.sapiGetMarginIsolatedAllPairs() == []
        ex.publicGetExchangeInfo()  # 20 more (40, unless a new minute began in between)
        assert int(ex.last_response_headers["x-mbx-used-weight-1m"]) in (20, 40)
        with pytest.raises(ccxt.BadRequest, match="spot only"):  # global table on localhost
            ex.fapiPrivateGetAccount()
    finally:
        server.stop()
