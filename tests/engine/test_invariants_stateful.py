"""Random command sequences, good and bad, with DESIGN.md's invariants checked after every step.

One symbol, four funded accounts (plus the fee account 0 and an account 9 that does not exist),
prices in a narrow band around 50000 so that orders cross often, quantities from dust to far more
than anyone holds, off-tick prices and off-step quantities, every order type, time in force and
self-trade prevention mode, cancels of orders that may not exist, cancel-replace, cancel-all,
deposits, withdrawals and their settlement, freezes and symbol status changes.

After every step: invariants 1–3 (`violations`); invariant 5 (every CommandRejected has a code and
a reason, an operator command is accepted only with a reason); a command that is only refused
leaves the state byte-identical; a market order sized by quantity expires only once nothing it may
trade with is left. At the end of each run: replaying the recorded commands (through
the journal encoding) into a fresh engine gives the same events and the same snapshot, and so does
restoring a midpoint snapshot and replaying the rest (invariant 4).
"""

import msgspec
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from bourse.commands import (
    CancelAllOrders,
    CancelOrder,
    CancelReplaceOrder,
    Command,
    CompleteWithdrawal,
    DefineFeeTier,
    Deposit,
    FailWithdrawal,
    FreezeAccount,
    OperatorCommand,
    PlaceOrder,
    RequestWithdrawal,
    SetAccountFeeTier,
    SetAccountPermissions,
    SetSymbolStatus,
    UnfreezeAccount,
    decode_command,
    encode_command,
)
from bourse.domain.enums import (
    LIMIT_PRICED_TYPES,
    STOP_TYPES,
    CancelReplaceMode,
    OrderStatus,
    OrderType,
    SelfTradePrevention,
    Side,
    SymbolStatus,
    TimeInForce,
)
from bourse.domain.rejections import RejectCode
from bourse.engine import Engine, snapshot
from bourse.engine.invariants import violations
from bourse.events import (
    AnyEvent,
    CommandRejected,
    OrderAccepted,
    OrderExpired,
    OrderTriggered,
)
from tests.builders import DESTINATIONS, of, raw, world

SYMBOL = "BTCUSDT"
P0 = raw("50000")
PRICES = [P0 + k * raw("5") for k in range(-12, 13)]
BAD_PRICES = [P0 + 1, 0, -raw("1"), raw("1000000.01")]  # off tick, missing, negative, too high
QTYS = [raw(q) for q in ("0.001", "0.005", "0.01", "0.02", "0.05", "0.1", "0.3", "1")]
BAD_QTYS = [raw(q) for q in ("3", "50", "0.000015", "0.000001", "9000.00001", "0", "-0.01")]
QUOTES = [raw(q) for q in ("10", "100", "1000", "5000", "250000", "1", "0")]
AMOUNTS = [raw(a) for a in ("0.01", "0.5", "0.5", "1000", "1000", "60000", "1000000", "0", "-1")]

accounts = st.sampled_from([1, 2, 3, 4] * 4 + [0, 9])  # 0: the fee account, 9: no such account
sides = st.sampled_from(Side)
prices = st.sampled_from(PRICES * 4 + BAD_PRICES)
qtys = st.sampled_from(QTYS * 4 + BAD_QTYS)
cids = st.sampled_from(["", "", "", "a", "b", "c"])
picks = st.integers(min_value=0, max_value=5)  # an open order / pending withdrawal, or none
assets = st.sampled_from(["BTC", "USDT"] * 3 + ["ETH", "DOGE"])
reasons = st.sampled_from(["compliance review"] * 5 + ["", " "])


class EngineMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.r = world(accounts=4, funds={"BTC": "2", "USDT": "100000"}, symbols=(SYMBOL,))

    # --- one step ---------------------------------------------------------------------------

    def run(self, cmd: Command) -> list[AnyEvent]:
        state = self.r.state
        before = snapshot.dump(state)
        events = self.r.execute(cmd)
        assert events, f"{cmd} produced no event at all"
        rejected = of(events, CommandRejected)
        for rej in rejected:  # invariant 5: a code and a sentence
            assert isinstance(rej.code, RejectCode)
            assert rej.reason.strip(), rej
            assert rej.command == type(cmd).__name__
        if isinstance(cmd, OperatorCommand) and not cmd.reason.strip():
            assert [r.code for r in rejected] == [RejectCode.REASON_REQUIRED]
        if len(rejected) == len(events):  # only refused: nothing may have changed
            state.last_seq -= 1
            unchanged = snapshot.dump(state) == before
            state.last_seq += 1
            assert unchanged, f"refused {cmd} changed the state: {rejected}"
        return events

    def order(
        self,
        acct: int,
        side: Side,
        order_type: OrderType,
        tif: TimeInForce = TimeInForce.GTC,
        stp: SelfTradePrevention = SelfTradePrevention.EXPIRE_MAKER,
        price: int = 0,
        qty: int = 0,
        stop: int = 0,
        quote: int = 0,
        cid: str = "",
        by_quote: bool = False,
        stray: bool = False,
    ) -> PlaceOrder:
        """A PlaceOrder shaped for its type, or with every parameter set when `stray`."""
        if stray:
            price, stop, quote = price or P0, stop or P0, quote or raw("100")
        else:
            price = price if order_type in LIMIT_PRICED_TYPES else 0
            stop = stop if order_type in STOP_TYPES else 0
            if order_type is not OrderType.MARKET or not by_quote:
                quote = 0
            else:
                qty = 0
        return self.r.stamp(
            PlaceOrder,
            account_id=acct,
            symbol=SYMBOL,
            side=side,
            order_type=order_type,
            time_in_force=tif,
            qty_raw=qty,
            quote_qty_raw=quote,
            price_raw=price,
            stop_price_raw=stop,
            client_order_id=cid,
            stp=stp,
        )

    def pick_order(self, pick: int) -> tuple[int, str]:
        """(order id, client order id) of the pick-th open order of any account, else of an
        order that is not open (closed, or never existed)."""
        open_orders = [o for a in self.r.state.accounts.values() for o in a.open_orders.values()]
        open_orders.sort(key=lambda o: o.id)
        if pick < len(open_orders):
            return open_orders[pick].id, open_orders[pick].client_order_id
        return self.r.state.next_order_id - 1 + pick % 3, "zzz"

    # --- orders (half of the rules, so that books fill and trade) ----------------------------

    @rule(
        acct=accounts,
        side=sides,
        order_type=st.sampled_from(OrderType),
        tif=st.sampled_from(TimeInForce),
        stp=st.sampled_from(SelfTradePrevention),
        price=prices,
        qty=qtys,
        stop=prices,
        quote=st.sampled_from(QUOTES),
        cid=cids,
        by_quote=st.booleans(),
        stray=st.sampled_from([False] * 9 + [True]),
    )
    def place_any(
        self,
        acct: int,
        side: Side,
        order_type: OrderType,
        tif: TimeInForce,
        stp: SelfTradePrevention,
        price: int,
        qty: int,
        stop: int,
        quote: int,
        cid: str,
        by_quote: bool,
        stray: bool,
    ) -> None:
        self.run(
            self.order(
                acct, side, order_type, tif, stp, price, qty, stop, quote, cid, by_quote, stray
            )
        )

    @rule(
        acct=accounts,
        side=sides,
        tif=st.sampled_from([TimeInForce.GTC] * 3 + [TimeInForce.IOC, TimeInForce.FOK]),
        stp=st.sampled_from(SelfTradePrevention),
        price=prices,
        qty=qtys,
        cid=cids,
    )
    def place_limit(
        self,
        acct: int,
        side: Side,
        tif: TimeInForce,
        stp: SelfTradePrevention,
        price: int,
        qty: int,
        cid: str,
    ) -> None:
        self.run(self.order(acct, side, OrderType.LIMIT, tif, stp, price, qty, cid=cid))

    @rule(acct=accounts, side=sides, price=prices, qty=qtys)
    def place_gtc(self, acct: int, side: Side, price: int, qty: int) -> None:
        self.run(self.order(acct, side, OrderType.LIMIT, price=price, qty=qty))

    @rule(
        acct=accounts,
        side=sides,
        qty=qtys,
        quote=st.sampled_from(QUOTES),
        by_quote=st.booleans(),
        stp=st.sampled_from(SelfTradePrevention),
    )
    def place_market(
        self, acct: int, side: Side, qty: int, quote: int, by_quote: bool, stp: SelfTradePrevention
    ) -> None:
        cmd = self.order(
            acct, side, OrderType.MARKET, stp=stp, qty=qty, quote=quote, by_quote=by_quote
        )
        events = self.run(cmd)
        if cmd.quote_qty_raw or not of(events, OrderAccepted):
            return
        # A market order sized by quantity was funded in full when accepted, so it can only
        # run out of liquidity it may trade with: none may be left on the book, apart from
        # stops that its trades triggered (they work after it, as on Binance).
        oid = of(events, OrderAccepted)[0].order_id
        ends = [e.status for e in of(events, OrderExpired) if e.order_id == oid]
        if ends == [OrderStatus.EXPIRED]:
            book = self.r.state.symbols[SYMBOL].book
            left = book.orders(Side.SELL if side is Side.BUY else Side.BUY)
            own_ok = stp is SelfTradePrevention.NONE
            triggered = {e.order_id for e in of(events, OrderTriggered)}
            tradable = [
                o.id for o in left if (o.account_id != acct or own_ok) and o.id not in triggered
            ]
            assert tradable == [], f"market order {oid} expired with {tradable} left to take"

    @rule(
        acct=accounts,
        side=sides,
        order_type=st.sampled_from(sorted(STOP_TYPES)),
        offset=st.integers(-8, 8),
        limit_offset=st.integers(-4, 4),
        qty=qtys,
    )
    def place_stop(
        self, acct: int, side: Side, order_type: OrderType, offset: int, limit_offset: int, qty: int
    ) -> None:
        """A stop near the last price (or the band's middle before any trade)."""
        last = self.r.state.symbols[SYMBOL].last_price or P0
        stop = last + offset * raw("5")
        price = stop + limit_offset * raw("5")
        self.run(self.order(acct, side, order_type, price=price, qty=qty, stop=stop))

    # --- cancels ----------------------------------------------------------------------------

    @rule(acct=accounts, pick=picks, by_cid=st.booleans(), own=st.booleans())
    def cancel(self, acct: int, pick: int, by_cid: bool, own: bool) -> None:
        order_id, cid = self.pick_order(pick)
        if own:  # usually ask as the owner, so that cancels mostly succeed
            for a in self.r.state.accounts.values():
                if order_id in a.open_orders:
                    acct = a.id
        self.run(
            self.r.stamp(
                CancelOrder,
                account_id=acct,
                symbol=SYMBOL,
                order_id=0 if by_cid else order_id,
                client_order_id=cid if by_cid else "",
            )
        )

    @rule(acct=accounts)
    def cancel_all(self, acct: int) -> None:
        self.run(self.r.stamp(CancelAllOrders, account_id=acct, symbol=SYMBOL))

    @rule(
        pick=picks,
        by_cid=st.booleans(),
        mode=st.sampled_from(CancelReplaceMode),
        side=sides,
        price=prices,
        qty=qtys,
        new_cid=cids,
        other_account=st.sampled_from([False] * 5 + [True]),
    )
    def cancel_replace(
        self,
        pick: int,
        by_cid: bool,
        mode: CancelReplaceMode,
        side: Side,
        price: int,
        qty: int,
        new_cid: str,
        other_account: bool,
    ) -> None:
        order_id, cid = self.pick_order(pick)
        acct = next((a.id for a in self.r.state.accounts.values() if order_id in a.open_orders), 1)
        owner = acct % 4 + 1 if other_account else acct
        new = self.order(owner, side, OrderType.LIMIT, price=price, qty=qty, cid=new_cid)
        self.run(
            self.r.stamp(
                CancelReplaceOrder,
                account_id=acct,
                symbol=SYMBOL,
                cancel_order_id=0 if by_cid else order_id,
                cancel_client_order_id=cid if by_cid else "",
                mode=mode,
                new_order=new,
            )
        )

    # --- funds ------------------------------------------------------------------------------

    @rule(
        kind=st.sampled_from(["deposit", "withdraw", "withdraw", "complete", "fail", "fail"]),
        acct=accounts,
        asset=assets,
        amount=st.sampled_from(AMOUNTS),
        destination=st.sampled_from(["valid", "valid", "bc1-not-an-address", ""]),
        pick=picks,
        reason=reasons,
    )
    def funds(
        self,
        kind: str,
        acct: int,
        asset: str,
        amount: int,
        destination: str,
        pick: int,
        reason: str,
    ) -> None:
        pending = sorted(self.r.state.withdrawals)
        wid = pending[pick] if pick < len(pending) else self.r.state.next_withdrawal_id + pick % 2
        if kind == "deposit":
            cmd: Command = self.r.stamp(Deposit, account_id=acct, asset=asset, amount_raw=amount)
        elif kind == "withdraw":
            cmd = self.r.stamp(
                RequestWithdrawal,
                account_id=acct,
                asset=asset,
                amount_raw=amount,
                destination=DESTINATIONS.get(asset, "") if destination == "valid" else destination,
            )
        elif kind == "complete":
            cmd = self.r.stamp(CompleteWithdrawal, withdrawal_id=wid)
        else:
            cmd = self.r.stamp(FailWithdrawal, withdrawal_id=wid, reason=reason)
        self.run(cmd)

    # --- operators --------------------------------------------------------------------------

    @rule(
        kind=st.sampled_from(
            [
                "freeze",
                "unfreeze",
                "unfreeze",
                "status",
                "status",
                "permissions",
                "tier",
                "define tier",
            ]
        ),
        acct=accounts,
        status=st.sampled_from([SymbolStatus.TRADING] * 3 + list(SymbolStatus)),
        flag=st.booleans(),
        tier=st.integers(0, 2),
        multiplier=st.sampled_from([0, 250_000, 1_000_000, 1_000_001]),
        reason=reasons,
    )
    def operator(
        self,
        kind: str,
        acct: int,
        status: SymbolStatus,
        flag: bool,
        tier: int,
        multiplier: int,
        reason: str,
    ) -> None:
        stamp = self.r.stamp
        if kind == "freeze":
            cmd: Command = stamp(FreezeAccount, account_id=acct, reason=reason, evidence="hit")
        elif kind == "unfreeze":
            cmd = stamp(UnfreezeAccount, account_id=acct, reason=reason)
        elif kind == "status":
            cmd = stamp(SetSymbolStatus, symbol=SYMBOL, status=status, reason=reason)
        elif kind == "permissions":
            cmd = stamp(
                SetAccountPermissions,
                account_id=acct,
                can_trade=flag or acct % 2 == 0,
                can_deposit=True,
                can_withdraw=not flag,
                reason=reason,
            )
        elif kind == "tier":
            cmd = stamp(SetAccountFeeTier, account_id=acct, fee_tier=tier, reason=reason)
        else:
            cmd = stamp(
                DefineFeeTier,
                tier=tier,
                maker_multiplier_ppm=multiplier,
                taker_multiplier_ppm=500_000,
                reason=reason,
            )
        self.run(cmd)

    # --- after every step -------------------------------------------------------------------

    @invariant()
    def invariants_hold(self) -> None:
        assert violations(self.r.state) == []

    # --- at the end: invariant 4 ------------------------------------------------------------

    def teardown(self) -> None:
        commands, events = self.r.commands, self.r.events
        final = snapshot.dump(self.r.state)
        mid = len(commands) // 2
        replay = Engine()
        midpoint = b""
        for seq, cmd in enumerate(commands, start=1):
            if seq == mid + 1:
                midpoint = snapshot.dump(replay.state)
            journaled = decode_command(encode_command(cmd))
            assert _bytes(replay.execute(seq, journaled)) == _bytes(events[seq - 1]), cmd
        assert snapshot.dump(replay.state) == final

        restored = Engine(snapshot.load(midpoint))
        assert snapshot.dump(restored.state) == midpoint
        for seq in range(mid + 1, len(commands) + 1):
            got = restored.execute(seq, commands[seq - 1])
            assert _bytes(got) == _bytes(events[seq - 1]), commands[seq - 1]
        assert snapshot.dump(restored.state) == final


def _bytes(events: list[AnyEvent]) -> bytes:
    return msgspec.msgpack.encode(events)


EngineMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestEngineMachine = EngineMachine.TestCase
