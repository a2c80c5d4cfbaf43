"""A jurisdiction policy reaches the accounts it restricts: their user data streams get an
`outboundAccountPosition` with the permissions REST `account` now shows, and accounts of other
countries hear nothing of it."""

from tests.api.conftest import Api
from tests.api.test_admin_compliance import apply, preview, rule
from tests.api.test_news_scenarios import bot
from tests.streams.test_user_stream import LIMIT, frames, listen_key


def _permissions(event: dict[str, object]) -> tuple[object, object, object]:
    return event["T"], event["W"], event["D"]


def test_a_trading_suspension_and_its_reversal_reach_the_residents_streams(live: Api) -> None:
    ru, de = bot(live, "RU", USDT="10000"), bot(live, "DE", USDT="10000")
    with (
        live.client.websocket_connect(f"/ws/{listen_key(ru.signer)}") as ru_ws,
        live.client.websocket_connect(f"/ws/{listen_key(de.signer)}") as de_ws,
    ):
        r = apply(live, preview(live, "RU", rule("TRADING", "SUSPENDED")))
        assert r.status_code == 200, r.text
        (suspended,) = frames(ru_ws, 1)
        rest = ru.signer.signed("GET", "/api/v3/account").json()
        assert suspended["e"] == "outboundAccountPosition" and suspended["B"] == []
        assert _permissions(suspended) == (
            rest["canTrade"], rest["canWithdraw"], rest["canDeposit"],
        ) == (False, True, True)  # fmt: skip

        r = apply(live, preview(live, "RU", rule("TRADING", "OPEN")))  # restores the country
        assert r.status_code == 200, r.text
        (restored,) = frames(ru_ws, 1)
        assert _permissions(restored) == (True, True, True)
        assert ru.signer.signed("GET", "/api/v3/account").json()["canTrade"] is True

        # the German customer's first event is its own order, not the Russian policy
        de.placed(**LIMIT, side="BUY", quantity="0.01", price="50000")
        (first,) = frames(de_ws, 1)
        assert (first["e"], first["x"]) == ("executionReport", "NEW")
