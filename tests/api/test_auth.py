"""Signed requests: key, IP, permissions, time window and signature, as Binance checks them."""

import base64
from urllib.parse import parse_qsl

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.requests import Request

from bourse.api.binance.params import Params
from bourse.api.binance.replies import ApiError
from bourse.keys.api_keys import ed25519_key, hmac_key
from bourse.keys.sealing import SealError, SecretBox
from bourse.server.exchange import now_ms
from tests.api.conftest import Api


def _request(key: str, host: str = "127.0.0.1") -> Request:
    headers = [(b"x-mbx-apikey", key.encode())] if key else []
    return Request({"type": "http", "headers": headers, "client": (host, 1234)})


def _auth(api: Api, key: str, query: bytes, *, trade: bool = False, host: str = "127.0.0.1"):
    gw = api.client.app.state.gateway  # type: ignore[attr-defined]
    return gw.authenticate(_request(key, host), Params(query), trade=trade)


def _code(fn) -> int:  # type: ignore[no-untyped-def]
    try:
        fn()
    except ApiError as exc:
        return exc.code
    raise AssertionError("no error raised")


def test_sealed_secret_opens_only_under_its_key_and_master(tmp_path) -> None:  # type: ignore[no-untyped-def]
    box = SecretBox.at(tmp_path / "master.key")
    sealed = box.seal("s3cret", "KEY1")
    assert "s3cret" not in sealed
    assert SecretBox.at(tmp_path / "master.key").open(sealed, "KEY1") == "s3cret"
    assert (tmp_path / "master.key").stat().st_mode & 0o777 == 0o600
    for other_box, bound in ((box, "KEY2"), (SecretBox.at(tmp_path / "other.key"), "KEY1")):
        try:
            other_box.open(sealed, bound)
        except SealError:
            continue
        raise AssertionError("a sealed secret opened where it must not")


def test_hmac_key_checks(api: Api) -> None:
    import hashlib
    import hmac as hm

    def signed(ts: int, secret: str = api.secret, extra: str = "") -> bytes:
        text = f"symbol=BTCUSDT&timestamp={ts}{extra}"
        sig = hm.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()
        return f"{text}&signature={sig}".encode()

    now = now_ms()
    assert _auth(api, api.key, signed(now)).account_id == api.account_id
    assert _code(lambda: _auth(api, "", signed(now))) == -2014
    assert _code(lambda: _auth(api, "x" * 64, signed(now))) == -2015
    assert _code(lambda: _auth(api, api.key, signed(now, "wrong"))) == -1022
    assert _code(lambda: _auth(api, api.key, signed(now - 6000))) == -1021
    assert _auth(api, api.key, signed(now - 6000, extra="&recvWindow=10000")).account_id
    assert _code(lambda: _auth(api, api.key, signed(now + 2000))) == -1021
    assert _code(lambda: _auth(api, api.key, signed(now, extra="&recvWindow=70000"))) == -1131
    assert _code(lambda: _auth(api, api.key, b"symbol=BTCUSDT")) == -1102


def test_read_only_key_and_ip_allow_list(api: Api) -> None:
    box = api.service.box
    cmd, secret = hmac_key(
        box,
        account_id=api.account_id,
        actor="t",
        ts_ms=now_ms(),
        reason="t",
        can_trade=False,
        ip_allow=["10.0.0.0/8"],
    )
    api.execute(cmd)  # through the service: the gateway's read model then holds the key
    import hashlib
    import hmac as hm

    text = f"timestamp={now_ms()}"
    sig = hm.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()
    query = f"{text}&signature={sig}".encode()
    assert _auth(api, cmd.api_key, query, host="10.1.2.3").account_id == api.account_id
    assert _code(lambda: _auth(api, cmd.api_key, query, host="127.0.0.1")) == -2015
    assert _code(lambda: _auth(api, cmd.api_key, query, trade=True, host="10.1.2.3")) == -2015


def test_ed25519_key(api: Api) -> None:
    private = Ed25519PrivateKey.generate()
    pem = private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    cmd = ed25519_key(
        pem.decode(), account_id=api.account_id, actor="t", ts_ms=now_ms(), reason="t"
    )
    api.execute(cmd)  # through the service: the gateway's read model then holds the key
    text = f"symbol=BTCUSDT&timestamp={now_ms()}"
    sig = base64.b64encode(private.sign(text.encode())).decode()
    from urllib.parse import quote

    query = f"{text}&signature={quote(sig, safe='')}".encode()
    assert _auth(api, cmd.api_key, query).account_id == api.account_id
    forged = f"{text.replace('BTC', 'ETH')}&signature={quote(sig, safe='')}".encode()
    assert _code(lambda: _auth(api, cmd.api_key, forged)) == -1022


def test_key_survives_restart_through_snapshot(api: Api) -> None:
    from bourse.engine import snapshot

    state = snapshot.load(snapshot.dump(api.exchange.engine.state))
    assert state.api_keys.keys() == api.exchange.engine.state.api_keys.keys()
    key = state.api_keys[api.key]
    assert key.account_id == api.account_id and api.secret not in key.credential


def test_params_query_wins_and_duplicates_refused() -> None:
    p = Params(b"a=1&price=49000.0", b"a=2&b=3")
    assert p.values == {"a": "1", "b": "3", "price": "49000.0"}
    assert p.amount("price", 2) == 4900000
    assert _code(lambda: Params(b"a=1&a=2")) == -1101
    assert _code(lambda: Params(b"price=1e-5").amount("price", 8)) == -1100
    assert _code(lambda: Params(b"price=0.123").amount("price", 2)) == -1111
    assert _code(lambda: Params(b"").amount("price", 2)) == -1102
    payload, sig = Params(b"a=1&signature=ab", b"c=2").signed_payload()
    assert (payload, sig) == (b"a=1c=2", "ab")


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="ab=&%+2F;é \x00", max_size=30))
def test_params_parse_as_the_standard_library_does(text: str) -> None:
    """The fast path for plain `name=value` pairs agrees with parse_qsl on every input."""
    raw = text.encode("latin-1", errors="replace")
    expected: dict[str, str] = {}
    duplicate = False
    for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        duplicate = duplicate or name in expected
        expected[name] = value
    if duplicate:
        with pytest.raises(ApiError):
            Params(raw)
    else:
        assert Params(raw).values == expected
