"""`bourse accounts` / `bourse keys` against a real `bourse run`, and the demo key it creates."""

import hashlib
import hmac
import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from bourse.server.exchange import now_ms
from tests.net import http
from tests.server.server import Server, cli, module_server, run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from module_server(tmp_path_factory)


def _signed_get(server: Server, path: str, key: str, secret: str) -> httpx.Response:
    text = urlencode({"timestamp": now_ms()})
    sig = hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()
    url = f"{server.url}{path}?{text}&signature={sig}"
    return http.get(url, headers={"X-MBX-APIKEY": key}, timeout=10)


def _has_route(server: Server, path: str) -> bool:
    return path in http.get(f"{server.url}/openapi.json", timeout=10).json()["paths"]


def test_account_and_key_end_to_end(server: Server) -> None:
    opened = json.loads(
        cli(server, "accounts", "create", "--deposit", "USDT=1000", "--reason", "t", "--json")
    )
    assert list(opened) == ["accountId"]
    account_id = opened["accountId"]
    created = json.loads(
        cli(server, "keys", "create", "--account", str(account_id), "--reason", "t", "--json")
    )
    assert set(created) == {"apiKey", "secretKey"}
    key, secret = created["apiKey"], created["secretKey"]

    listed = json.loads(cli(server, "keys", "list", "--account", str(account_id), "--json"))
    assert listed == [
        {"apiKey": key, "keyType": "HMAC_SHA256", "permissions": ["read", "trade"], "ip": []}
    ]
    if _has_route(server, "/api/v3/account"):  # the Binance account route signs with this key
        r = _signed_get(server, "/api/v3/account", key, secret)
        assert r.status_code == 200, r.text
        usdt = next(b for b in r.json()["balances"] if b["asset"] == "USDT")
        assert usdt["free"] == "1000.00000000"
    account = http.get(
        f"{server.url}/admin/v1/accounts/{account_id}", headers=server.headers, timeout=10
    ).json()
    assert account["balances"] == [
        {"asset": "USDT", "free": "1000.00000000", "locked": "0.00000000"}
    ]

    assert key in cli(server, "keys", "revoke", key, "--reason", "lost")
    assert json.loads(cli(server, "keys", "list", "--account", str(account_id), "--json")) == []
    again = run_cli("keys", "revoke", key, "--reason", "x", "--data-dir", str(server.data_dir))
    assert again.returncode == 1 and again.stderr.startswith("error: API key ")
    reasonless = run_cli("keys", "revoke", key, "--data-dir", str(server.data_dir))
    assert reasonless.returncode == 2 and "--reason" in reasonless.stderr


def test_errors_and_overrides(server: Server, tmp_path: Path) -> None:
    bad = run_cli(
        "accounts", "create", "--deposit", "NOPE=1", "--reason", "t",
        "--data-dir", str(server.data_dir),
    )  # fmt: skip
    assert bad.returncode == 1
    assert bad.stderr.strip() == "error: asset 'NOPE' does not exist"
    unknown = run_cli(
        "keys", "create", "--account", "999", "--reason", "t", "--data-dir", str(server.data_dir)
    )
    assert unknown.returncode == 1 and "999" in unknown.stderr
    nobody = run_cli("keys", "list", "--account", "1", "--data-dir", str(tmp_path / "none"))
    assert nobody.returncode == 2 and "no bourse server is running" in nobody.stderr
    overridden = run_cli(
        "keys", "list", "--account", "1", "--json", "--data-dir", str(tmp_path / "none"),
        "--url", server.url, "--token", server.token,
    )  # fmt: skip
    assert overridden.returncode == 0, overridden.stderr
    assert len(json.loads(overridden.stdout)) == 1  # the demo key
    wrong = run_cli("keys", "list", "--account", "1", "--url", server.url, "--token", "nope")
    assert wrong.returncode == 1 and "staff token" in wrong.stderr


NUMBERS = [
    (["--account", "1", "--deposit", "USDT=1e5"], "no exponent"),  # was credited as 100000
    (["--account", "1", "--deposit", "USDT=-10"], "must be positive"),
    (["--account", "99999999999999999999", "--deposit", "USDT=1"], "out of range"),
]


@pytest.mark.parametrize(("args", "words"), NUMBERS)
def test_a_deposit_s_numbers_are_checked_like_the_trading_api_s(
    server: Server, args: list[str], words: str
) -> None:
    done = run_cli(
        "accounts", "deposit", *args, "--reason", "t", "--data-dir", str(server.data_dir)
    )
    assert done.returncode == 1 and words in done.stderr, done.stderr


def _stop_for_banner(server: Server) -> str:
    server.stop()
    return server.output()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the clients' own imports
def test_demo_key_is_created_once_kept_0600_and_printed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = Server(data)
    demo_file = data / "demo-api-key.json"
    assert stat.S_IMODE(demo_file.stat().st_mode) == 0o600
    demo = json.loads(demo_file.read_text())
    assert set(demo) == {"apiKey", "secretKey", "accountId"} and demo["accountId"] == 1
    r = http.get(f"{first.url}/admin/v1/accounts/1/keys", headers=first.headers, timeout=10)
    assert [k["apiKey"] for k in r.json()] == [demo["apiKey"]]
    if _has_route(first, "/api/v3/account"):
        assert _signed_get(first, "/api/v3/account", demo["apiKey"], demo["secretKey"]).is_success
    banner = _stop_for_banner(first)

    second = Server(data)  # a restart prints the same key and creates no other
    r = http.get(f"{second.url}/admin/v1/accounts/1/keys", headers=second.headers, timeout=10)
    assert [k["apiKey"] for k in r.json()] == [demo["apiKey"]]
    restarted_banner = _stop_for_banner(second)
    assert json.loads(demo_file.read_text()) == demo
    for text in (banner, restarted_banner):
        assert demo["apiKey"] in text and demo["secretKey"] in text
    _check_snippets(banner, first.url)
    _check_snippets(restarted_banner, second.url)


def _check_snippets(banner: str, url: str) -> None:
    """Each client line runs as printed and points its client at this server."""
    names = ("ccxt", "python-binance", "binance-sdk-spot")
    snippets = {
        line.split()[0]: line.split(maxsplit=1)[1]
        for line in banner.splitlines()
        if line.startswith("    ") and line.split()[0] in names
    }
    assert snippets.keys() == {"ccxt", "python-binance", "binance-sdk-spot"}
    clients: dict[str, dict[str, Any]] = {name: {} for name in snippets}
    for name, code in snippets.items():
        exec(code, clients[name])  # what a user pastes; builds clients, sends nothing
    assert clients["ccxt"]["ex"].urls["api"]["private"] == f"{url}/api/v3"
    assert clients["python-binance"]["client"]._create_api_uri("account") == (
        f"{url}/api/v3/account"
    )
    assert clients["binance-sdk-spot"]["api"].configuration.base_path == url
