"""Folding a batch of outcomes into table rows, in Python, before any SQL runs.

Pure: no database here. Rows created by the batch carry their later changes already (an order
accepted and filled in the same batch is one insert); changes to rows of earlier batches are kept
as patches (deltas for fills) that the projector merges with the stored row.
"""

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import msgspec

from bourse.compliance.policy import CLOSURE_REPORT
from bourse.domain.enums import OrderStatus, Side
from bourse.events import (
    AccountFeeTierChanged,
    AccountFrozen,
    AccountOpened,
    AccountPermissionsChanged,
    AccountUnfrozen,
    AssetCreated,
    BalanceChanged,
    ClosureBalancesReported,
    CommandRejected,
    CustomerRecorded,
    ExitWindowClosed,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderTriggered,
    Outcome,
    PolicyApplied,
    PolicyScheduled,
    PolicySweepProgressed,
    ProposalDecided,
    RescreenRecorded,
    SanctionedAddressesSet,
    ScheduledChangeCanceled,
    ScreeningAlertDecided,
    ScreeningAlertRaised,
    SymbolListed,
    SymbolStatusChanged,
    TradeExecuted,
    VenueDefined,
    WithdrawalCompleted,
    WithdrawalFailed,
    WithdrawalRequested,
)
from bourse.store.queries import TradeRow
from bourse.store.screening_batch import ScreeningBatch

MINUTE_MS = 60_000

Row = dict[str, Any]


@dataclass(slots=True)
class OrderPatch:
    """What a batch did to an order inserted by an earlier batch."""

    filled: int = 0
    quote: int = 0
    status: str | None = None
    working: bool | None = None
    updated_ms: int = 0


@dataclass(slots=True)
class Kline:
    """The trades of one symbol in one minute, as a `klines_1m` row holds them."""

    open: int
    high: int
    low: int
    close: int
    volume: int
    quote_volume: int
    count: int
    taker_buy_volume: int
    taker_buy_quote_volume: int
    first_trade_id: int
    last_trade_id: int

    @classmethod
    def of_trade(cls, t: "TradeExecuted | TradeRow") -> "Kline":
        """A minute of one trade, from the event or from the store's row of it."""
        buy = t.taker_side == Side.BUY
        return cls(
            t.price_raw,
            t.price_raw,
            t.price_raw,
            t.price_raw,
            t.qty_raw,
            t.quote_qty_raw,
            1,
            t.qty_raw if buy else 0,
            t.quote_qty_raw if buy else 0,
            t.trade_id,
            t.trade_id,
        )

    @classmethod
    def of_row(cls, r: Any) -> "Kline":
        return cls(
            r.open_raw,
            r.high_raw,
            r.low_raw,
            r.close_raw,
            r.volume_raw,
            r.quote_volume_raw,
            r.trade_count,
            r.taker_buy_volume_raw,
            r.taker_buy_quote_volume_raw,
            r.first_trade_id,
            r.last_trade_id,
        )

    def extend(self, later: "Kline") -> None:
        """Fold in the trades of the same minute that came after this one's."""
        self.high = max(self.high, later.high)
        self.low = min(self.low, later.low)
        self.close = later.close
        self.volume += later.volume
        self.quote_volume += later.quote_volume
        self.count += later.count
        self.taker_buy_volume += later.taker_buy_volume
        self.taker_buy_quote_volume += later.taker_buy_quote_volume
        self.last_trade_id = later.last_trade_id

    def row(self, symbol: str, open_time_ms: int) -> Row:
        return {
            "symbol": symbol,
            "open_time_ms": open_time_ms,
            "open_raw": self.open,
            "high_raw": self.high,
            "low_raw": self.low,
            "close_raw": self.close,
            "volume_raw": self.volume,
            "quote_volume_raw": self.quote_volume,
            "trade_count": self.count,
            "taker_buy_volume_raw": self.taker_buy_volume,
            "taker_buy_quote_volume_raw": self.taker_buy_quote_volume,
            "first_trade_id": self.first_trade_id,
            "last_trade_id": self.last_trade_id,
        }


class Batch:
    """The rows one batch of outcomes turns into, before any SQL runs."""

    def __init__(self) -> None:
        self.new_orders: dict[int, Row] = {}
        self.order_patches: dict[int, OrderPatch] = {}
        self.trades: list[Row] = []
        self.klines: dict[tuple[str, int], Kline] = {}
        self.history: list[Row] = []
        self.balances: dict[tuple[int, str], Row] = {}
        self.rejections: list[Row] = []
        self.assets: list[Row] = []
        self.new_accounts: dict[int, Row] = {}
        self.account_patches: dict[int, Row] = {}
        self.new_symbols: dict[str, Row] = {}
        self.symbol_patches: dict[str, Row] = {}
        self.customers: dict[int, Row] = {}
        self.customer_history: list[Row] = []
        self.new_withdrawals: dict[int, Row] = {}
        self.withdrawal_patches: dict[int, Row] = {}
        self.venues: dict[str, Row] = {}
        self.policy_changes: list[Row] = []
        self.new_schedules: dict[int, Row] = {}
        self.schedule_patches: dict[int, Row] = {}
        self.new_closures: dict[int, Row] = {}
        self.closure_patches: dict[int, Row] = {}
        self.closure_balances: list[Row] = []
        self.screening = ScreeningBatch()

    def add(self, o: Outcome) -> None:
        seq, ts = o.seq, o.ts_ms
        approval: ProposalDecided | None = None  # an approved proposal's events follow it
        for e in o.events:
            match e:
                case ProposalDecided():
                    approval = e if e.decision == "approved" else None
                case ScreeningAlertDecided():
                    self.screening.add(e, seq, ts, approval)
                case BalanceChanged():
                    row = {
                        "account_id": e.account_id,
                        "asset": e.asset,
                        "free_raw": e.free_raw,
                        "locked_raw": e.locked_raw,
                    }
                    self.history.append({**row, "seq": seq, "ts_ms": ts, "command": o.command})
                    self.balances[(e.account_id, e.asset)] = {**row, "updated_seq": seq}
                case OrderAccepted():
                    self.new_orders[e.order_id] = {
                        "order_id": e.order_id,
                        "account_id": e.account_id,
                        "symbol": e.symbol,
                        "client_order_id": e.client_order_id,
                        "side": e.side.value,
                        "order_type": e.order_type.value,
                        "time_in_force": e.time_in_force.value,
                        "price_raw": e.price_raw,
                        "qty_raw": e.qty_raw,
                        "quote_qty_raw": e.quote_qty_raw,
                        "stop_price_raw": e.stop_price_raw,
                        "stp": e.stp.value,
                        "status": OrderStatus.NEW.value,
                        "executed_qty_raw": 0,
                        "cum_quote_raw": 0,
                        "working": e.working,
                        "created_ms": ts,
                        "updated_ms": ts,
                        "created_seq": seq,
                    }
                case TradeExecuted():
                    self._trade(e, seq, ts)
                case OrderCanceled():
                    self._order(e.order_id, ts, status=OrderStatus.CANCELED.value)
                case OrderExpired():
                    self._order(e.order_id, ts, status=e.status.value)
                case OrderTriggered():
                    self._order(e.order_id, ts, working=True)
                case CommandRejected():
                    self.rejections.append(
                        {
                            "seq": seq,
                            "ts_ms": ts,
                            "command": e.command,
                            "account_id": e.account_id,
                            "symbol": e.symbol,
                            "client_order_id": e.client_order_id,
                            "code": int(e.code),
                            "reason": e.reason,
                        }
                    )
                case AccountOpened():
                    self.new_accounts[e.account_id] = {
                        "account_id": e.account_id,
                        "fee_tier": e.fee_tier,
                        "can_trade": True,
                        "can_deposit": True,
                        "can_withdraw": True,
                        "frozen": False,
                        "updated_seq": seq,
                        "customer_id": e.customer_id,
                    }
                case AccountPermissionsChanged():
                    self._account(
                        e.account_id,
                        seq,
                        can_trade=e.can_trade,
                        can_deposit=e.can_deposit,
                        can_withdraw=e.can_withdraw,
                    )
                case AccountFeeTierChanged():
                    self._account(e.account_id, seq, fee_tier=e.fee_tier)
                case AccountFrozen():
                    self._account(e.account_id, seq, frozen=True)
                case AccountUnfrozen():
                    self._account(e.account_id, seq, frozen=False)
                case AssetCreated():
                    self.assets.append({"asset": e.asset, "precision": e.precision})
                case SymbolListed():
                    spec = e.spec
                    self.new_symbols[spec.name] = {
                        "name": spec.name,
                        "base": spec.base,
                        "quote": spec.quote,
                        "base_precision": spec.base_precision,
                        "quote_precision": spec.quote_precision,
                        "status": e.status.value,
                        "spec_json": msgspec.json.encode(spec).decode(),
                    }
                case SymbolStatusChanged():
                    _patch(self.new_symbols, self.symbol_patches, e.symbol, status=e.status.value)
                case CustomerRecorded():
                    self.customers[e.customer_id] = {  # the whole record: the latest one wins
                        "customer_id": e.customer_id,
                        "legal_name": e.legal_name,
                        "date_of_birth": e.date_of_birth,
                        "nationality": e.nationality,
                        "residence": e.residence,
                        "kyc_level": e.kyc_level,
                        "risk_tier": e.risk_tier.value,
                        "venue": e.venue,
                        "updated_seq": seq,
                    }
                    record = self.customers[e.customer_id]
                    version = {k: v for k, v in record.items() if k != "updated_seq"}
                    version |= {"seq": seq, "ts_ms": ts, "actor": e.actor, "reason": e.reason}
                    self.customer_history.append(version)
                case WithdrawalRequested():
                    self.screening.add(e, seq, ts)  # the payee of the reviews holding it
                    self.new_withdrawals[e.withdrawal_id] = {
                        "withdrawal_id": e.withdrawal_id,
                        "account_id": e.account_id,
                        "asset": e.asset,
                        "amount_raw": e.amount_raw,
                        "destination": e.destination,
                        "beneficiary": e.beneficiary,
                        "on_request_ref": e.on_request_ref,
                        "held": bool(e.held_by),
                        "requested_seq": seq,
                        "requested_ms": ts,
                        "status": "PENDING",
                        "tx_ref": None,
                        "failure": None,
                        "settled_seq": None,
                        "settled_ms": None,
                    }
                case WithdrawalCompleted():
                    settled = {"tx_ref": e.tx_ref, "settled_seq": seq, "settled_ms": ts}
                    self._withdrawal(e.withdrawal_id, status="COMPLETED", **settled)
                case WithdrawalFailed():
                    settled = {"failure": e.reason, "settled_seq": seq, "settled_ms": ts}
                    self._withdrawal(e.withdrawal_id, status="FAILED", **settled)
                case VenueDefined():
                    self.venues[e.venue] = {
                        "venue": e.venue,
                        "name": e.name,
                        "jurisdictions": ",".join(e.jurisdictions),
                        "symbols": ",".join(e.symbols),
                        "fee_tier": e.fee_tier,
                    }
                case PolicyApplied():
                    self._policy_applied(e, seq, ts)
                case PolicyScheduled():
                    self.new_schedules[e.schedule_id] = {
                        "schedule_id": e.schedule_id,
                        "seq": seq,
                        "ts_ms": ts,
                        "name": e.spec.name,
                        "country": e.spec.country,
                        "basis": e.spec.basis.value,
                        "spec_json": msgspec.json.encode(e.spec).decode(),
                        "effective_ms": e.effective_ms,
                        "preview_id": e.preview_id,
                        "previewed_customers": e.previewed.customers,
                        "previewed_accounts": e.previewed.accounts,
                        "actor": e.actor,
                        "reason": e.reason,
                        "state": "scheduled",
                        "change_id": None,
                        "canceled_by": None,
                        "cancel_reason": None,
                        "updated_seq": seq,
                    }
                case ScheduledChangeCanceled():
                    self._schedule(
                        e.schedule_id,
                        seq,
                        state="canceled",
                        canceled_by=e.actor,
                        cancel_reason=e.reason,
                    )
                case ExitWindowClosed():
                    self.new_closures[e.change_id] = {
                        "change_id": e.change_id,
                        "seq": seq,
                        "ts_ms": ts,
                        "name": e.name,
                        "country": e.country,
                        "basis": e.basis.value,
                        "customers": e.customers,
                        "accounts": e.accounts,
                        "reported": 0,
                    }
                case ClosureBalancesReported():
                    self.closure_balances += [
                        {
                            "change_id": e.change_id,
                            "account_id": b.account_id,
                            "asset": b.asset,
                            "customer_id": b.customer_id,
                            "free_raw": b.free_raw,
                            "locked_raw": b.locked_raw,
                        }
                        for b in e.balances
                    ]
                case PolicySweepProgressed() if e.kind == CLOSURE_REPORT:
                    _patch(self.new_closures, self.closure_patches, e.change_id, reported=e.done)
                case ScreeningAlertRaised() | RescreenRecorded():
                    self.screening.add(e, seq, ts)
                case SanctionedAddressesSet():
                    self.screening.add(e, seq, ts)
                case _:
                    pass  # fee tiers, deposits: seen here only as BalanceChanged

    def _trade(self, t: TradeExecuted, seq: int, ts: int) -> None:
        self.trades.append(
            {
                "symbol": t.symbol,
                "trade_id": t.trade_id,
                "price_raw": t.price_raw,
                "qty_raw": t.qty_raw,
                "quote_qty_raw": t.quote_qty_raw,
                "taker_side": t.taker_side.value,
                "maker_order_id": t.maker_order_id,
                "taker_order_id": t.taker_order_id,
                "maker_account_id": t.maker_account_id,
                "taker_account_id": t.taker_account_id,
                "maker_fee_raw": t.maker_fee_raw,
                "taker_fee_raw": t.taker_fee_raw,
                "ts_ms": ts,
                "seq": seq,
            }
        )
        self._order(t.maker_order_id, ts, t.qty_raw, t.quote_qty_raw, t.maker_status.value)
        self._order(t.taker_order_id, ts, t.qty_raw, t.quote_qty_raw, t.taker_status.value)
        key = (t.symbol, ts - ts % MINUTE_MS)
        kline = Kline.of_trade(t)
        if (earlier := self.klines.get(key)) is not None:
            earlier.extend(kline)
        else:
            self.klines[key] = kline

    def _order(
        self,
        order_id: int,
        ts: int,
        filled: int = 0,
        quote: int = 0,
        status: str | None = None,
        working: bool | None = None,
    ) -> None:
        row = self.new_orders.get(order_id)
        if row is not None:  # accepted in this batch: fold into its insert
            row["executed_qty_raw"] += filled
            row["cum_quote_raw"] += quote
            if status is not None:
                row["status"] = status
            if working is not None:
                row["working"] = working
            row["updated_ms"] = ts
            return
        patch = self.order_patches.get(order_id)
        if patch is None:
            patch = self.order_patches[order_id] = OrderPatch()
        patch.filled += filled
        patch.quote += quote
        if status is not None:
            patch.status = status
        if working is not None:
            patch.working = working
        patch.updated_ms = ts

    def _policy_applied(self, e: PolicyApplied, seq: int, ts: int) -> None:
        previous = None if e.previous is None else msgspec.json.encode(e.previous).decode()
        self.policy_changes.append(
            {
                "change_id": e.change_id,
                "seq": seq,
                "ts_ms": ts,
                "name": e.spec.name,
                "country": e.spec.country,
                "basis": e.spec.basis.value,
                "spec_json": msgspec.json.encode(e.spec).decode(),
                "previous_json": previous,
                "preview_id": e.preview_id,
                "previewed_customers": e.previewed.customers,
                "previewed_accounts": e.previewed.accounts,
                "affected_customers": e.affected.customers,
                "affected_accounts": e.affected.accounts,
                "schedule_id": e.schedule_id,
                "actor": e.actor,
                "reason": e.reason,
            }
        )
        if e.schedule_id:
            self._schedule(e.schedule_id, seq, state="applied", change_id=e.change_id)

    def _schedule(self, schedule_id: int, seq: int, **fields: Any) -> None:
        _patch(self.new_schedules, self.schedule_patches, schedule_id, updated_seq=seq, **fields)

    def _account(self, account_id: int, seq: int, **fields: Any) -> None:
        _patch(self.new_accounts, self.account_patches, account_id, updated_seq=seq, **fields)

    def _withdrawal(self, withdrawal_id: int, **fields: Any) -> None:
        _patch(self.new_withdrawals, self.withdrawal_patches, withdrawal_id, **fields)


def _patch(new: dict[Any, Row], patches: dict[Any, Row], key: Hashable, **fields: Any) -> None:
    """Record changed columns of a row: into its insert if the batch created it."""
    row = new.get(key)
    if row is not None:
        row.update(fields)
    else:
        patches.setdefault(key, {}).update(fields)
