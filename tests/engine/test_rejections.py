"""Bad input, as a table: each case is refused with one CommandRejected and leaves state as it was.

Every case runs against the same small world (see `_world`), after its own setup commands. The
check is the same for all: exactly one event, a CommandRejected with the expected code, a reason
sentence naming what is wrong, the Binance error the gateway will answer with, and a state whose
snapshot is byte-identical to the one before (once `last_seq` is set back).
"""

import hashlib
from typing import Any, NamedTuple

import msgspec
import pytest

from bourse.api.binance.errors import BINANCE_ERRORS, binance_error
from bourse.banking.cards import PartnerEndFingerprint, PartnerEndSpec, end_preview_id
from bourse.banking.cutoff import Cause, CutOffFingerprint, CutOffSpec, Outgoing
from bourse.banking.cutoff import preview_id as cutoff_preview_id
from bourse.commands import (
    AddStaff,
    ApproveProposal,
    CancelAllOrders,
    CancelOrder,
    CancelReplaceOrder,
    CancelScheduledChange,
    Command,
    CompleteWithdrawal,
    ConfirmScreeningAlert,
    ContinuePolicySweep,
    CreateAsset,
    CreatePaymentFile,
    CutOffBank,
    DefineBank,
    DefineFeeTier,
    DefinePaymentPartner,
    DefineVenue,
    Deposit,
    EndPaymentPartner,
    FailWithdrawal,
    FreezeAccount,
    ListedAddress,
    ListSymbol,
    OffboardStaff,
    OnboardCustomer,
    OpenAccount,
    PlaceOrder,
    ProposeCommand,
    RaiseScreeningAlert,
    ReceiveCardDeposit,
    RecordRescreen,
    RequestWithdrawal,
    RunDuePolicies,
    SchedulePolicyChange,
    SetAccountPermissions,
    SetFourEyes,
    SetJurisdictionPolicy,
    SetReferencePrice,
    SetSanctionedAddresses,
    SetSymbolStatus,
    SuspendBank,
    UnfreezeAccount,
    UpdateCustomer,
    WithdrawOnRequest,
)
from bourse.compliance.evidence import BeneficiaryScreening, Evidence, ListRef
from bourse.compliance.policy import (
    Access,
    Basis,
    Capability,
    Exclusion,
    HoldingsAbove,
    PolicySpec,
    Rule,
    preview_id,
)
from bourse.compliance.staff import Role
from bourse.domain.enums import (
    CancelReplaceMode,
    CancelRestriction,
    OrderType,
    Side,
    SymbolStatus,
)
from bourse.domain.money import PrecisionError, to_raw
from bourse.domain.rejections import RejectCode
from bourse.engine import Engine, snapshot
from bourse.engine.impact import fingerprint
from bourse.engine.invariants import violations
from bourse.events import CommandRejected, OrderCanceled
from tests.builders import (
    ACTOR,
    BTC_ADDRESS,
    DESTINATIONS,
    SYMBOLS,
    Runner,
    of,
    one,
    raw,
    world,
)

BUY, SELL = Side.BUY, Side.SELL
LIMIT, MARKET, LIMIT_MAKER = OrderType.LIMIT, OrderType.MARKET, OrderType.LIMIT_MAKER
TS = 1_800_000_000_000

C = RejectCode
# What the gateway answers for each refusal (errors.md of binance-spot-api-docs): the expected
# table, written out here independently of the engine's own mapping.
FILTER = -1013
REJECTED = -2010  # NEW_ORDER_REJECTED
MALFORMED = "A mandatory parameter was not sent, was empty/null, or malformed."
DISABLED = "This action is disabled on this account."
BINANCE: dict[RejectCode, tuple[int, str]] = {
    C.PRICE_FILTER: (FILTER, "Filter failure: PRICE_FILTER"),
    C.LOT_SIZE: (FILTER, "Filter failure: LOT_SIZE"),
    C.MARKET_LOT_SIZE: (FILTER, "Filter failure: MARKET_LOT_SIZE"),
    C.NOTIONAL: (FILTER, "Filter failure: NOTIONAL"),
    C.INSUFFICIENT_BALANCE: (REJECTED, "Account has insufficient balance for requested action."),
    C.DUPLICATE_CLIENT_ORDER_ID: (REJECTED, "Duplicate order sent."),
    C.WOULD_TAKE: (REJECTED, "Order would immediately match and take."),
    C.WOULD_TRIGGER_IMMEDIATELY: (REJECTED, "Order would trigger immediately."),
    C.MARKET_CLOSED: (REJECTED, "Market is closed."),
    C.MARKET_CANCEL_ONLY: (REJECTED, "Market is closed."),
    C.ACCOUNT_FROZEN: (REJECTED, DISABLED),
    C.TRADING_DISABLED: (REJECTED, DISABLED),
    C.WITHDRAW_DISABLED: (REJECTED, DISABLED),
    C.DEPOSIT_DISABLED: (REJECTED, DISABLED),
    C.UNKNOWN_ORDER: (-2011, "Unknown order sent."),
    C.CANCEL_RESTRICTED: (-2011, "Order was not canceled due to cancel restrictions."),
    C.UNKNOWN_SYMBOL: (-1121, "Invalid symbol."),
    C.UNKNOWN_ACCOUNT: (-2015, "Invalid API-key, IP, or permissions for action."),
    C.UNKNOWN_ASSET: (-1100, "Illegal characters found in parameter 'asset'."),
    C.INVALID_PARAMETER: (-1102, MALFORMED),
    C.REASON_REQUIRED: (
        -1102,
        "Mandatory parameter 'reason' was not sent, was empty/null, or malformed.",
    ),
    C.UNKNOWN_WITHDRAWAL: (-1102, "Unknown withdrawal."),
    C.JURISDICTION_POLICY: (REJECTED, DISABLED),
    C.NOT_LISTED_ON_VENUE: (REJECTED, "This symbol is not permitted for this account."),
    C.UNKNOWN_CUSTOMER: (-1102, "Unknown customer."),
    C.SANCTIONED_DESTINATION: (REJECTED, DISABLED),
    C.UNSCREENED_BENEFICIARY: (
        -1102,
        "The beneficiary was not screened against the sanctions lists in force.",
    ),
    C.WITHDRAWAL_HELD: (-1102, "The withdrawal is held for review."),
    C.BANK_CUT_OFF: (-1102, "The bank is cut off from the exchange."),
    C.PARTNER_ENDED: (-1102, "The card partner has left the exchange."),
    C.BANK_SUSPENDED: (-1102, "The bank is suspended for now."),
    C.CUSTOMER_HELD: (REJECTED, DISABLED),
    C.LISTING_STANDS: (-1102, "A sanctions listing still stands."),
    C.NOT_PERMITTED: (-1002, "You are not authorized to execute this request."),
    C.OUT_OF_SCOPE: (-1002, "You are not authorized to execute this request."),
    C.UNKNOWN_STAFF: (-1102, "Unknown staff member."),
    C.FOUR_EYES_REQUIRED: (-1002, "A second person must approve this."),
    C.SELF_APPROVAL: (-1002, "You are not authorized to execute this request."),
    C.PROPOSAL_EXPIRED: (-1102, "The proposal has expired."),
    C.PROPOSAL_STALE: (-1102, "The proposal is out of date."),
    C.UNKNOWN_PROPOSAL: (-1102, "Unknown proposal."),
    C.PREVIEW_MISMATCH: (-1102, "The change does not match its preview."),
    C.PREVIEW_STALE: (-1102, "The preview is out of date."),
    C.UNPRICED_HOLDINGS: (
        -1102,
        "A holdings condition has no price for an asset the named accounts hold.",
    ),
    C.NO_CHANGE: (-1102, "The request changes nothing."),
    C.ALREADY_EXISTS: (-1102, "The object already exists."),
}


def place(
    acct: int = 1,
    side: Side = BUY,
    order_type: OrderType = LIMIT,
    *,
    price: str | None = "50000",
    qty: str | None = "0.01",
    quote: str | None = None,
    stop: str | None = None,
    symbol: str = "BTCUSDT",
    cid: str = "",
) -> PlaceOrder:
    return PlaceOrder(
        actor=f"account:{acct}",
        ts_ms=TS,
        account_id=acct,
        symbol=symbol,
        side=side,
        order_type=order_type,
        price_raw=raw(price) if price else 0,
        qty_raw=raw(qty) if qty else 0,
        quote_qty_raw=raw(quote) if quote else 0,
        stop_price_raw=raw(stop) if stop else 0,
        client_order_id=cid,
    )


def market(acct: int = 1, side: Side = BUY, **kw: Any) -> PlaceOrder:
    kw.setdefault("price", None)
    return place(acct, side, MARKET, **kw)


def cancel(acct: int, order_id: int = 0, cid: str = "", symbol: str = "BTCUSDT") -> CancelOrder:
    return CancelOrder(
        actor=f"account:{acct}",
        ts_ms=TS,
        account_id=acct,
        symbol=symbol,
        order_id=order_id,
        client_order_id=cid,
    )


def replace(
    acct: int,
    new: PlaceOrder,
    cid: str,
    mode: CancelReplaceMode = CancelReplaceMode.STOP_ON_FAILURE,
) -> CancelReplaceOrder:
    return CancelReplaceOrder(
        actor=f"account:{acct}",
        ts_ms=TS,
        account_id=acct,
        symbol=new.symbol,
        cancel_client_order_id=cid,
        mode=mode,
        new_order=new,
    )


# A valid mainnet P2WPKH address: an invalid one is refused in stage 0, before the gate looks it up.
LISTED_ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
LISTED = SetSanctionedAddresses(
    actor="system:screening",
    ts_ms=TS,
    source="ofac_sdn",
    list_sha256="cd" * 32,
    addresses=(ListedAddress(address=LISTED_ADDRESS, entry_id="31164", network="XBT"),),
)


def withdraw(
    acct: int, asset: str, amount: str, to: str | None = None, **kw: Any
) -> RequestWithdrawal:
    return RequestWithdrawal(
        actor=f"account:{acct}",
        ts_ms=TS,
        account_id=acct,
        asset=asset,
        amount_raw=raw(amount),
        destination=DESTINATIONS.get(asset, "") if to is None else to,
        **kw,
    )


def deposit(acct: int, asset: str, amount: str) -> Deposit:
    return Deposit(
        actor="chain:watcher", ts_ms=TS, account_id=acct, asset=asset, amount_raw=raw(amount)
    )


def status(value: SymbolStatus, symbol: str = "BTCUSDT") -> SetSymbolStatus:
    return SetSymbolStatus(actor=ACTOR, ts_ms=TS, reason="test", symbol=symbol, status=value)


OPS: dict[str, Any] = {"actor": ACTOR, "ts_ms": TS, "reason": "test"}

# Account 1 holds 1000 EUR, a fiat asset; a beneficiary screened against LISTED's version.
EURO = (CreateAsset(asset="EUR", precision=8, fiat=True, **OPS), deposit(1, "EUR", "1000"))
IBAN = "DE89370400440532013000"
_NO_ONE = CutOffFingerprint(accounts=0, account_version=0,
                            transfers=hashlib.sha256(b"[]").hexdigest()[:20])  # fmt: skip
_CUT = CutOffSpec(bic="VTBRRUMMXXX", cause=Cause.SWIFT_DISCONNECTED, outgoing=Outgoing.RETURN)
_NO_CARDS = PartnerEndFingerprint(cards=0, card_version=0,
                                  pending=hashlib.sha256(b"[]").hexdigest()[:20])  # fmt: skip
_END = PartnerEndSpec(partner="MASTERCARD")
ENDED_PARTNER = (
    DefinePaymentPartner(code="MASTERCARD", name="Mastercard", kind="CARD_SCHEME",
                         currencies=("EUR",), serves=("DE",), **OPS),
    EndPaymentPartner(spec=_END, preview_id=end_preview_id(_END, _NO_CARDS), previewed=_NO_CARDS,
                      **OPS),
)  # fmt: skip
CUT_OFF_BANK = (
    DefineBank(bic="VTBRRUMMXXX", name="VTB Bank", country="RU", currencies=("EUR",),
               serves=("RU",), accounts=(("EUR", IBAN),), **OPS),
    CutOffBank(spec=_CUT, preview_id=cutoff_preview_id(_CUT, _NO_ONE), previewed=_NO_ONE, **OPS),
)  # fmt: skip
SCREENED = BeneficiaryScreening(lists=(ListRef(source="ofac_sdn", list_sha256="cd" * 32),))
PAYEE_HIT = Evidence(
    source="ofac_sdn",
    list_sha256="cd" * 32,
    entry_id="31164",
    listed_name="LISTED PERSON",
    score_bp=9100,
    explanation="name matches",
    entry_fingerprint="f1",
)

# --- customers and jurisdiction policies: account 6 is the first customer's account ----------
# the first customer's onboarding screening hit: alert 1, holding them until decided
HELD = RaiseScreeningAlert(
    customer_id=1, evidence=PAYEE_HIT, hold=True, actor="system:screening", ts_ms=TS
)
DAY_MS = 86_400_000
KZ_RESIDENT = OnboardCustomer(
    legal_name="Aida Nurlanovna",
    date_of_birth="1990-05-01",
    nationality="KZ",
    residence="KZ",
    **OPS,
)
RU_NATIONAL_IN_DE = OnboardCustomer(
    legal_name="Ivan Petrov", date_of_birth="1985-03-02", nationality="RU", residence="DE", **OPS
)


def rules(access: Access, *caps: Capability) -> tuple[Rule, ...]:
    return tuple(Rule(capability=c, access=access) for c in caps)


KZ_HALT = PolicySpec(
    name="KZ trading halt", country="KZ", rules=rules(Access.SUSPENDED, Capability.TRADING)
)
KZ_EXIT = PolicySpec(
    name="KZ exit",
    country="KZ",
    rules=rules(
        Access.WITHDRAW_ONLY,
        Capability.TRADING,
        Capability.CRYPTO_DEPOSIT,
        Capability.CRYPTO_WITHDRAWAL,
    ),
    deadline_ms=TS + 30 * DAY_MS,
)


KZ_RICH = PolicySpec(  # the demo world prices BTC in USDT, not ETH (ETHUSDT never traded)
    name="KZ large holders",
    country="KZ",
    rules=(
        Rule(
            capability=Capability.CRYPTO_DEPOSIT,
            access=Access.SUSPENDED,
            condition=HoldingsAbove(asset="USDT", limit_raw=raw("10000")),
        ),
    ),
)


def excluding(asset: str, reason: str = "not ours to value") -> PolicySpec:
    cond = HoldingsAbove(
        asset="USDT", limit_raw=1, excluded=(Exclusion(asset=asset, reason=reason),)
    )
    rule = Rule(capability=Capability.CRYPTO_DEPOSIT, access=Access.SUSPENDED, condition=cond)
    return msgspec.structs.replace(KZ_RICH, rules=(rule,))


def cited(
    spec: PolicySpec,
    *,
    after: tuple[Command, ...] = (),
    cls: type[SetJurisdictionPolicy] | type[SchedulePolicyChange] = SetJurisdictionPolicy,
    **fields: Any,
) -> Any:
    """`cls` applying `spec` with the preview of whom it names once the customer commands of
    `after` (a case's setup) have run: membership depends on nothing else."""
    engine = Engine()
    for seq, cmd in enumerate((c for c in after if isinstance(c, OnboardCustomer)), start=1):
        engine.execute(seq, cmd)
    seen = fingerprint(engine.state, spec.basis, spec.country)
    fields = {**OPS, **fields}
    return cls(spec=spec, preview_id=preview_id(spec, seen), previewed=seen, **fields)


HOUR_MS = 3_600_000
# Two senior officers, sid and sue; freezes need four eyes; sid proposes freezing account 2.
FOUR_EYES = (
    AddStaff(name="sid", role=Role.SENIOR_COMPLIANCE_OFFICER, **OPS),
    AddStaff(name="sue", role=Role.SENIOR_COMPLIANCE_OFFICER, **OPS),
    SetFourEyes(commands=("FreezeAccount",), **OPS),
)
PROPOSED = ProposeCommand(
    command=FreezeAccount(account_id=2, actor="staff:sid", ts_ms=TS, reason="alert 4"),
    expires_ms=TS + HOUR_MS,
    actor="staff:sid",
    ts_ms=TS,
    reason="alert 4",
)
PROPOSED_DIGEST = "<the digest the engine gave the proposal>"  # filled in when the case runs


class Case(NamedTuple):
    name: str
    command: Command
    code: RejectCode
    mentions: tuple[str, ...]  # what the reason must name, as it appears in the sentence
    setup: tuple[Command, ...] = ()


# fmt: off
CASES = [
    # --- the order's own numbers ---
    Case("negative quantity", place(qty="-0.001"), C.INVALID_PARAMETER, ("quantity", "-0.001")),
    Case("negative price", place(price="-5"), C.INVALID_PARAMETER, ("price", "-5")),
    Case("zero quantity", place(qty="0"), C.INVALID_PARAMETER, ("LIMIT", "positive quantity")),
    Case("LIMIT without a price", place(price=None),
         C.INVALID_PARAMETER, ("LIMIT", "positive price")),
    Case("price not on tick", place(price="50000.005"),
         C.PRICE_FILTER, ("50000.005", "tick size 0.01")),
    Case("price above the maximum", place(price="1000000.01"),
         C.PRICE_FILTER, ("1000000.01", "maximum price 1000000")),
    Case(
        "stop price not on tick",
        place(1, SELL, OrderType.STOP_LOSS_LIMIT, price="49000", stop="49000.001"),
        C.PRICE_FILTER, ("stop price 49000.001",),
   ),
    Case("quantity not on step", place(qty="0.000015"), C.LOT_SIZE, ("0.000015", "step 0.00001")),
    Case("quantity below the minimum", place(qty="0.000001"),
         C.LOT_SIZE, ("0.000001", "minimum 0.00001")),
    Case("quantity above the maximum", place(qty="9000.00001"),
         C.LOT_SIZE, ("9000.00001", "maximum 9000")),
    Case("market quantity below the minimum", market(qty="0.000001"),
         C.MARKET_LOT_SIZE, ("0.000001", "MARKET_LOT_SIZE")),
    Case("below the minimum notional", place(price="100", qty="0.00001"),
         C.NOTIONAL, ("order value 0.001", "minimum notional 5")),
    Case("market buy below the minimum notional at the last price", market(qty="0.00001"),
         C.NOTIONAL, ("order value 0.5", "notional 5")),
    Case("market by quote below the minimum notional", market(qty=None, quote="1"),
         C.NOTIONAL, ("order value 1 ", "notional 5")),
    Case("MARKET with both quantity and quote quantity", market(qty="0.01", quote="500"),
         C.INVALID_PARAMETER, ("quantity", "quote quantity", "not both")),
    Case("price given to a MARKET order", market(price="50000"),
         C.INVALID_PARAMETER, ("MARKET", "price")),
    Case("quote quantity given to a LIMIT order", place(quote="500"),
         C.INVALID_PARAMETER, ("LIMIT", "quote quantity")),
    Case("stop price given to a LIMIT order", place(stop="49000"),
         C.INVALID_PARAMETER, ("LIMIT", "stop price")),
    Case("stop order without a stop price", place(1, SELL, OrderType.STOP_LOSS, price=None),
         C.INVALID_PARAMETER, ("STOP_LOSS", "stop price")),
    # --- who and where ---
    Case("unknown symbol", place(symbol="DOGEUSDT"), C.UNKNOWN_SYMBOL, ("DOGEUSDT",)),
    Case("unknown account", place(acct=99), C.UNKNOWN_ACCOUNT, ("account 99",)),
    Case("the fee account cannot trade", place(acct=0), C.UNKNOWN_ACCOUNT, ("account 0",)),
    # --- funds ---
    Case("insufficient quote for a buy", place(acct=1, qty="5"),
         C.INSUFFICIENT_BALANCE, ("account 1", "USDT free", "needs 250000 USDT")),
    Case("insufficient base for a sell", place(2, SELL, price="60000", qty="2"),
         C.INSUFFICIENT_BALANCE, ("1.00999 BTC free", "needs 2 BTC")),
    Case("sell of an asset never held", place(5, SELL, price="60000", qty="0.01"),
         C.INSUFFICIENT_BALANCE, ("account 5 has 0 BTC free", "0.01 BTC")),
    Case("market buy by quote beyond the balance", market(5, quote="100000.01", qty=None),
         C.INSUFFICIENT_BALANCE, ("100000 USDT free", "100000.01 USDT")),
    Case("market sell by quote without any base", market(5, SELL, quote="10", qty=None),
         C.INSUFFICIENT_BALANCE, ("0 BTC free",)),
    Case(
        "buy stop beyond the balance",
        place(5, BUY, OrderType.STOP_LOSS, price=None, stop="60000", qty="2"),
        C.INSUFFICIENT_BALANCE, ("needs 120000 USDT",),
   ),
    # --- the order against the book and the account's other orders ---
    Case("duplicate client order id of an open order", place(1, SELL, price="52000", cid="ask-1"),
         C.DUPLICATE_CLIENT_ORDER_ID, ("'ask-1'",)),
    Case("LIMIT_MAKER buy that would take", place(2, BUY, LIMIT_MAKER, price="51000"),
         C.WOULD_TAKE, ("51000", "best ask")),
    Case("LIMIT_MAKER sell that would take", place(1, SELL, LIMIT_MAKER, price="48000"),
         C.WOULD_TAKE, ("48000", "best bid 49000")),
    Case(
        "sell STOP_LOSS at the last price",
        place(1, SELL, OrderType.STOP_LOSS, price=None, stop="50000"),
        C.WOULD_TRIGGER_IMMEDIATELY, ("stop price 50000", "last price 50000"),
   ),
    Case(
        "buy STOP_LOSS_LIMIT below the last price",
        place(1, BUY, OrderType.STOP_LOSS_LIMIT, price="50000", stop="49990"),
        C.WOULD_TRIGGER_IMMEDIATELY, ("49990", "50000"),
   ),
    Case(
        "sell TAKE_PROFIT below the last price",
        place(1, SELL, OrderType.TAKE_PROFIT, price=None, stop="49990"),
        C.WOULD_TRIGGER_IMMEDIATELY, ("49990",),
   ),
    Case(
        "buy TAKE_PROFIT_LIMIT above the last price",
        place(1, BUY, OrderType.TAKE_PROFIT_LIMIT, price="50010", stop="50010"),
        C.WOULD_TRIGGER_IMMEDIATELY, ("50010",),
   ),
    # --- cancels ---
    Case("cancel of an unknown order id", cancel(1, order_id=999),
         C.UNKNOWN_ORDER, ("order 999", "BTCUSDT")),
    Case("cancel of an unknown client order id", cancel(1, cid="nope"),
         C.UNKNOWN_ORDER, ("'nope'",)),
    Case("cancel naming an order id and another order's client id",
         cancel(1, order_id=3, cid="bid-1"),
         C.UNKNOWN_ORDER, ("order 3", "'ask-1'", "'bid-1'")),
    Case("cancel of another account's order", cancel(2, cid="ask-1"),
         C.UNKNOWN_ORDER, ("account 2", "'ask-1'")),
    Case("cancel on the wrong symbol", cancel(1, cid="ask-1", symbol="ETHUSDT"),
         C.UNKNOWN_ORDER, ("'ask-1'", "ETHUSDT")),
    Case("cancel without any id", cancel(1), C.INVALID_PARAMETER, ("order id",)),
    Case("cancel restricted to part-filled orders of a NEW one",
         msgspec.structs.replace(
             cancel(1, cid="ask-1"), restriction=CancelRestriction.ONLY_PARTIALLY_FILLED
         ),
         C.CANCEL_RESTRICTED, ("NEW", "PARTIALLY_FILLED")),
    Case("cancel-replace restricted to part-filled orders of a NEW one (STOP_ON_FAILURE)",
         msgspec.structs.replace(
             replace(1, place(1, SELL, price="52000"), cid="ask-1"),
             cancel_restriction=CancelRestriction.ONLY_PARTIALLY_FILLED,
         ),
         C.CANCEL_RESTRICTED, ("NEW", "ONLY_PARTIALLY_FILLED")),
    Case(
        "cancel all with nothing open",
        CancelAllOrders(actor="account:5", ts_ms=TS, account_id=5, symbol="BTCUSDT"),
        C.UNKNOWN_ORDER, ("account 5", "BTCUSDT"),
   ),
    Case(
        "cancel-replace of an unknown order (STOP_ON_FAILURE)",
        replace(1, place(1, SELL, price="52000"), cid="nope"),
        C.UNKNOWN_ORDER, ("'nope'",),
   ),
    Case(
        "cancel-replace with a new order for another account",
        replace(1, place(2, SELL, price="52000"), cid="ask-1"),
        C.INVALID_PARAMETER, ("same account",),
   ),
    # --- the compliance gate ---
    Case("frozen account places an order", place(acct=3),
         C.ACCOUNT_FROZEN, ("account 3", "frozen")),
    Case("frozen account cancels", cancel(3, order_id=1),
         C.ACCOUNT_FROZEN, ("account 3", "frozen")),
    Case(
        "frozen account cancels all",
        CancelAllOrders(actor="account:3", ts_ms=TS, account_id=3, symbol="BTCUSDT"),
        C.ACCOUNT_FROZEN, ("account 3",),
   ),
    Case("frozen account withdraws", withdraw(3, "BTC", "0.1"),
         C.ACCOUNT_FROZEN, ("account 3", "frozen")),
    Case("trading disabled", place(acct=4), C.TRADING_DISABLED, ("account 4", "trading")),
    Case("a frozen account's pending withdrawal completes",
         CompleteWithdrawal(actor="chain:sender", ts_ms=TS, withdrawal_id=1),
         C.ACCOUNT_FROZEN, ("withdrawal 1", "account 3", "frozen")),
    Case("withdrawals disabled", withdraw(4, "BTC", "0.1"),
         C.WITHDRAW_DISABLED, ("account 4", "withdrawals")),
    Case("a withdrawal to a listed address (any case of a bech32 address)",
         withdraw(1, "BTC", "0.1", to=f" {LISTED_ADDRESS.upper()} "),
         C.SANCTIONED_DESTINATION, (LISTED_ADDRESS.upper(), "ofac_sdn entry 31164", "blocked"),
         (LISTED,)),
    Case("a fiat withdrawal without a beneficiary", withdraw(1, "EUR", "10", to=IBAN),
         C.INVALID_PARAMETER, ("EUR withdrawal", "beneficiary"), EURO),
    Case("a fiat payee not screened against the list version in force",
         withdraw(1, "EUR", "10", to=IBAN, beneficiary="Jane Roe"),
         C.UNSCREENED_BENEFICIARY, ("'Jane Roe'", "ofac_sdn cdcdcdcdcdcd"), (*EURO, LISTED)),
    Case("a fiat payee screened against an older list version",
         withdraw(1, "EUR", "10", to=IBAN, beneficiary="Jane Roe",
                  screening=BeneficiaryScreening(
                      lists=(ListRef(source="ofac_sdn", list_sha256="ab" * 32),))),
         C.UNSCREENED_BENEFICIARY, ("ofac_sdn cdcdcdcdcdcd",), (*EURO, LISTED)),
    Case("a payee hit without its list version",
         withdraw(1, "EUR", "10", to=IBAN, beneficiary="Jane Roe",
                  screening=BeneficiaryScreening(
                      lists=SCREENED.lists,
                      hits=(msgspec.structs.replace(PAYEE_HIT, list_sha256=""),))),
         C.INVALID_PARAMETER, ("evidence",), (*EURO, LISTED)),
    Case("a payment file through a bank that is cut off",
         CreatePaymentFile(bank="VTBRRUMMXXX", currency="EUR", execution_date="2027-01-04", **OPS),
         C.BANK_CUT_OFF, ("VTB Bank (VTBRRUMMXXX) is cut off",), (*EURO, *CUT_OFF_BANK)),
    Case("a payment file through a bank suspended for now",
         CreatePaymentFile(bank="VTBRRUMMXXX", currency="EUR", execution_date="2027-01-04", **OPS),
         C.BANK_SUSPENDED, ("VTB Bank (VTBRRUMMXXX) is suspended",),
         (*EURO, CUT_OFF_BANK[0], SuspendBank(bic="VTBRRUMMXXX", suspended=True, **OPS))),
    Case("a card deposit through a card scheme that has left",
         ReceiveCardDeposit(partner="MASTERCARD", card_id=1, currency="EUR", amount_raw=100,
                            partner_ref="p-1", **OPS),
         C.PARTNER_ENDED, ("Mastercard (MASTERCARD) has ended",), (*EURO, *ENDED_PARTNER)),
    Case("a withdrawal held for a beneficiary review completes",
         CompleteWithdrawal(actor="bank:sender", ts_ms=TS, withdrawal_id=2),
         C.WITHDRAWAL_HELD, ("withdrawal 2", "alert(s) 1", "'Listed Person'"),
         (*EURO, LISTED, withdraw(1, "EUR", "10", to=IBAN, beneficiary="Listed Person",
                                  screening=msgspec.structs.replace(SCREENED, hits=(PAYEE_HIT,))))),
    Case("a customer held by an onboarding screening alert deposits", deposit(6, "USDT", "10"),
         C.CUSTOMER_HELD, ("account 6", "alert 1 (ofac_sdn entry 31164", "held"),
         (KZ_RESIDENT, HELD)),
    Case("a customer held by an onboarding screening alert places an order", place(acct=6),
         C.CUSTOMER_HELD, ("account 6", "alert 1 (ofac_sdn entry 31164"), (KZ_RESIDENT, HELD)),
    Case("an unfreeze while the confirmed listing it rests on stands",
         UnfreezeAccount(account_id=6, **OPS),
         C.LISTING_STANDS, ("account 6", "alert 1 (ofac_sdn entry 31164", "overrides [1]"),
         (KZ_RESIDENT, HELD, ConfirmScreeningAlert(alert_id=1, **OPS))),
    # --- staff: their role and scope, by the engine itself ---
    Case("a support agent freezes an account",
         FreezeAccount(account_id=1, actor="staff:sam", ts_ms=TS, reason="x"),
         C.NOT_PERMITTED, ("sam is a support", "FreezeAccount"),
         (AddStaff(name="sam", role=Role.SUPPORT, **OPS),)),
    Case("a regional manager freezes a customer outside their region",
         FreezeAccount(account_id=6, actor="staff:kai", ts_ms=TS, reason="x"),
         C.OUT_OF_SCOPE, ("kai acts within DE only", "resident in KZ"),
         (KZ_RESIDENT, AddStaff(name="kai", role=Role.REGIONAL_MANAGER, countries=("DE",), **OPS))),
    Case("offboarding someone who never worked here", OffboardStaff(name="ghost", **OPS),
         C.UNKNOWN_STAFF, ("'ghost'",)),
    # --- four eyes ---
    Case("a freeze sent directly where four eyes apply",
         FreezeAccount(account_id=2, actor="staff:sid", ts_ms=TS, reason="x"),
         C.FOUR_EYES_REQUIRED, ("FreezeAccount", "second person", "propose"), FOUR_EYES),
    Case("the proposer approves their own proposal",
         ApproveProposal(proposal_id=1, digest="any", actor="staff:sid", ts_ms=TS, reason="x"),
         C.SELF_APPROVAL, ("staff:sid proposed 1", "second person"), (*FOUR_EYES, PROPOSED)),
    Case("an approval after the proposal expired",
         ApproveProposal(proposal_id=1, digest="any", actor="staff:sue", ts_ms=TS + HOUR_MS,
                         reason="x"),
         C.PROPOSAL_EXPIRED, ("proposal 1 expired", "propose it again"), (*FOUR_EYES, PROPOSED)),
    Case("an approval once the account it freezes has changed",
         ApproveProposal(proposal_id=1, digest=PROPOSED_DIGEST, actor="staff:sue", ts_ms=TS,
                         reason="x"),
         C.PROPOSAL_STALE, ("proposal 1 concerns has changed",),
         (*FOUR_EYES, PROPOSED, SetAccountPermissions(account_id=2, can_trade=False,
                                                      can_deposit=True, can_withdraw=True, **OPS))),
    Case("an approval of a proposal nobody made",
         ApproveProposal(proposal_id=7, digest="any", actor="staff:sue", ts_ms=TS, reason="x"),
         C.UNKNOWN_PROPOSAL, ("proposal 7",), FOUR_EYES),
    Case("a rescreen record without its list versions",
         RecordRescreen(lists=(), matcher="m1", customers=3, mode="full", actor=ACTOR, ts_ms=TS),
         C.INVALID_PARAMETER, ("list versions", "matcher")),
    Case("a rescreen record of an unknown mode",
         RecordRescreen(lists=SCREENED.lists, matcher="m1", customers=3, mode="partial",
                        actor=ACTOR, ts_ms=TS),
         C.INVALID_PARAMETER, ("full or incremental",)),
    Case("deposits disabled (the fee account)", deposit(0, "BTC", "1"),
         C.DEPOSIT_DISABLED, ("account 0", "deposits")),
    Case("symbol HALT refuses orders", place(),
         C.MARKET_CLOSED, ("BTCUSDT", "HALT"), (status(SymbolStatus.HALT),)),
    Case("symbol BREAK refuses orders", place(),
         C.MARKET_CLOSED, ("BTCUSDT", "BREAK"), (status(SymbolStatus.BREAK),)),
    Case("symbol HALT refuses cancels", cancel(2, cid="bid-1"),
         C.MARKET_CLOSED, ("BTCUSDT", "HALT"), (status(SymbolStatus.HALT),)),
    Case("symbol BREAK refuses cancels", cancel(2, cid="bid-1"),
         C.MARKET_CLOSED, ("BTCUSDT", "BREAK"), (status(SymbolStatus.BREAK),)),
    Case("symbol CANCEL_ONLY refuses orders", place(),
         C.MARKET_CANCEL_ONLY, ("BTCUSDT", "CANCEL_ONLY"), (status(SymbolStatus.CANCEL_ONLY),)),
    Case(
        "symbol CANCEL_ONLY refuses cancel-replace",
        replace(2, place(2, BUY, price="48000"), cid="bid-1"),
        C.MARKET_CANCEL_ONLY, ("CANCEL_ONLY",), (status(SymbolStatus.CANCEL_ONLY),),
   ),
    Case(
        "operator command with an empty reason",
        FreezeAccount(actor="ops:alice", ts_ms=TS, reason="", account_id=1),
        C.REASON_REQUIRED, ("FreezeAccount", "ops:alice", "reason"),
   ),
    Case(
        "operator command with a blank reason",
        SetSymbolStatus(
            actor="ops:bob", ts_ms=TS, reason=" ", symbol="BTCUSDT", status=SymbolStatus.HALT
        ),
        C.REASON_REQUIRED, ("SetSymbolStatus", "ops:bob"),
   ),
    # --- deposits and withdrawals ---
    Case("withdrawal above the free balance", withdraw(1, "BTC", "0.9"),
         C.INSUFFICIENT_BALANCE, ("0.89 BTC free", "needs 0.9")),
    Case("withdrawal of an asset never held", withdraw(1, "ETH", "1"),
         C.INSUFFICIENT_BALANCE, ("0 ETH free", "needs 1")),
    Case("withdrawal of nothing", withdraw(1, "BTC", "0"),
         C.INVALID_PARAMETER, ("amount", "positive")),
    Case("withdrawal without a destination", withdraw(1, "BTC", "0.1", to=" "),
         C.INVALID_PARAMETER, ("destination",)),
    Case("a USDT withdrawal to text that is no address",
         withdraw(1, "USDT", "1", to="not an address at all!!"), C.INVALID_PARAMETER,
         ("USDT withdrawals go to an Ethereum address (ERC-20)", "'not an address at all!!'")),
    Case("a BTC withdrawal to an IBAN", withdraw(1, "BTC", "0.1", to=IBAN),
         C.INVALID_PARAMETER, ("BTC cannot be withdrawn to an IBAN",)),
    Case("a BTC withdrawal whose bech32 checksum is wrong",
         withdraw(1, "BTC", "0.1", to="bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5"),
         C.INVALID_PARAMETER, ("not a valid Bitcoin address", "checksum does not match")),
    Case("an ETH withdrawal whose EIP-55 checksum is wrong",
         withdraw(1, "ETH", "1", to="0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"),
         C.INVALID_PARAMETER, ("EIP-55 checksum",)),
    Case("a fiat withdrawal to a crypto address",
         withdraw(1, "EUR", "10", to=BTC_ADDRESS, beneficiary="Jane Roe"),
         C.INVALID_PARAMETER, ("EUR cannot be withdrawn to a crypto address",), EURO),
    Case("a withdrawal of an asset without a network",
         withdraw(1, "SOL", "1", to="7EcDhSYGxXyscszYEp35KHN8vvw3svAuLKTzXwCFLtV"),
         C.INVALID_PARAMETER, ("SOL has no withdrawal network",),
         (CreateAsset(asset="SOL", precision=8, **OPS),)),
    Case("withdrawal of an unknown asset", withdraw(1, "DOGE", "1"), C.UNKNOWN_ASSET, ("'DOGE'",)),
    Case("deposit of an unknown asset", deposit(1, "DOGE", "1"), C.UNKNOWN_ASSET, ("'DOGE'",)),
    Case("deposit to an unknown account", deposit(42, "BTC", "1"),
         C.UNKNOWN_ACCOUNT, ("account 42",)),
    Case("deposit of a negative amount", deposit(1, "BTC", "-1"), C.INVALID_PARAMETER, ("amount",)),
    Case(
        "complete an unknown withdrawal",
        CompleteWithdrawal(actor="chain:sender", ts_ms=TS, withdrawal_id=7),
        C.UNKNOWN_WITHDRAWAL, ("withdrawal 7",),
   ),
    Case("fail an unknown withdrawal", FailWithdrawal(withdrawal_id=8, **OPS),
         C.UNKNOWN_WITHDRAWAL, ("withdrawal 8",)),
    # --- operator commands that change nothing or name nothing ---
    Case("freeze an account already frozen", FreezeAccount(account_id=3, **OPS),
         C.NO_CHANGE, ("account 3", "already frozen")),
    Case("unfreeze an account that is not frozen", UnfreezeAccount(account_id=1, **OPS),
         C.NO_CHANGE, ("account 1", "not frozen")),
    Case("freeze the fee account", FreezeAccount(account_id=0, **OPS),
         C.UNKNOWN_ACCOUNT, ("account 0",)),
    Case(
        "permissions of an unknown account",
        SetAccountPermissions(
            account_id=77, can_trade=True, can_deposit=True, can_withdraw=True, **OPS
        ),
        C.UNKNOWN_ACCOUNT, ("account 77",),
   ),
    Case("symbol status that is already so", status(SymbolStatus.TRADING),
         C.NO_CHANGE, ("BTCUSDT", "already TRADING")),
    Case("status of an unknown symbol", status(SymbolStatus.HALT, symbol="DOGEUSDT"),
         C.UNKNOWN_SYMBOL, ("'DOGEUSDT'",)),
    Case("an asset created twice", CreateAsset(asset="BTC", precision=8, **OPS),
         C.ALREADY_EXISTS, ("BTC",)),
    Case("an asset code that is not upper case", CreateAsset(asset="btc!", precision=8, **OPS),
         C.INVALID_PARAMETER, ("'btc!'",)),
    Case("a symbol listed twice", ListSymbol(spec=SYMBOLS["BTCUSDT"], **OPS),
         C.ALREADY_EXISTS, ("BTCUSDT",)),
    Case("an account on an undefined fee tier", OpenAccount(fee_tier=7, **OPS),
         C.INVALID_PARAMETER, ("fee tier 7",)),
    Case(
        "a fee tier paying more than the full rate",
        DefineFeeTier(tier=1, maker_multiplier_ppm=1_000_001, taker_multiplier_ppm=0, **OPS),
        C.INVALID_PARAMETER, ("1,000,000 ppm",),
   ),
    # --- customers, venues and jurisdiction policies ---
    Case("an order from a resident under a trading suspension", place(acct=6),
         C.JURISDICTION_POLICY, ("trading is suspended", "residents of KZ", "'KZ trading halt'"),
         (KZ_RESIDENT, deposit(6, "USDT", "1000"), cited(KZ_HALT, after=(KZ_RESIDENT,)))),
    Case(
        "an order from a national under a nationality policy",
        place(acct=6),
        C.JURISDICTION_POLICY, ("trading is suspended", "nationals of RU", "'RU nationals'"),
        (RU_NATIONAL_IN_DE, cited(
            PolicySpec(name="RU nationals", country="RU", basis=Basis.NATIONALITY,
                       rules=rules(Access.SUSPENDED, Capability.TRADING)),
            after=(RU_NATIONAL_IN_DE,),
        )),
   ),
    Case("a deposit during an exit window", deposit(6, "BTC", "1"),
         C.JURISDICTION_POLICY, ("crypto deposits", "exit window", "'KZ exit'"),
         (KZ_RESIDENT, cited(KZ_EXIT, after=(KZ_RESIDENT,)))),
    Case(
        "a withdrawal where withdrawals are closed",
        withdraw(6, "BTC", "0.1"),
        C.JURISDICTION_POLICY, ("crypto withdrawals are closed", "on request", "'KZ closed'"),
        (KZ_RESIDENT, deposit(6, "BTC", "1"), cited(
            PolicySpec(name="KZ closed", country="KZ",
                       rules=rules(Access.CLOSED, Capability.CRYPTO_WITHDRAWAL)),
            after=(KZ_RESIDENT,),
        )),
   ),
    Case("onboarding where onboarding is suspended", KZ_RESIDENT,
         C.JURISDICTION_POLICY, ("onboarding is suspended", "residents of KZ"),
         (cited(PolicySpec(name="KZ no onboarding", country="KZ",
                           rules=rules(Access.SUSPENDED, Capability.ONBOARDING))),)),
    Case("a second account where onboarding is suspended", OpenAccount(customer_id=1, **OPS),
         C.JURISDICTION_POLICY, ("onboarding is suspended", "'KZ no onboarding'"),
         (KZ_RESIDENT, cited(PolicySpec(name="KZ no onboarding", country="KZ",
                                        rules=rules(Access.SUSPENDED, Capability.ONBOARDING)),
                             after=(KZ_RESIDENT,)))),
    Case(
        "an order on a symbol the customer's venue does not list",
        place(acct=6),
        C.NOT_LISTED_ON_VENUE, ("BTCUSDT", "KZX", "lists ETHUSDT"),
        (DefineVenue(venue="KZX", name="Kazakh venue", jurisdictions=("KZ",),
                     symbols=("ETHUSDT",), **OPS), KZ_RESIDENT, deposit(6, "USDT", "1000")),
   ),
    Case("an account for an unknown customer", OpenAccount(customer_id=9, **OPS),
         C.UNKNOWN_CUSTOMER, ("customer 9",)),
    Case("an update of an unknown customer", UpdateCustomer(customer_id=9, residence="DE", **OPS),
         C.UNKNOWN_CUSTOMER, ("customer 9",)),
    Case("an update that changes nothing", UpdateCustomer(customer_id=1, residence="KZ", **OPS),
         C.NO_CHANGE, ("customer 1",), (KZ_RESIDENT,)),
    Case("an update to an unknown residence", UpdateCustomer(customer_id=1, residence="XK1", **OPS),
         C.INVALID_PARAMETER, ("residence", "'XK1'"), (KZ_RESIDENT,)),
    Case("a customer of an unknown nationality",
         msgspec.structs.replace(KZ_RESIDENT, nationality="XX"),
         C.INVALID_PARAMETER, ("nationality", "'XX'", "alpha-2")),
    Case("a customer residing in no country",
         msgspec.structs.replace(KZ_RESIDENT, residence="Kazakhstan"),
         C.INVALID_PARAMETER, ("residence", "'Kazakhstan'")),
    Case("a customer under 18", msgspec.structs.replace(KZ_RESIDENT, date_of_birth="2012-06-01"),
         C.INVALID_PARAMETER, ("2012-06-01", "under 18")),
    Case("a date of birth that is no date",
         msgspec.structs.replace(KZ_RESIDENT, date_of_birth="1990-02-30"),
         C.INVALID_PARAMETER, ("'1990-02-30'", "YYYY-MM-DD")),
    Case("a customer without a name", msgspec.structs.replace(KZ_RESIDENT, legal_name=" "),
         C.INVALID_PARAMETER, ("legal name",)),
    Case("a policy for an unknown country",
         cited(msgspec.structs.replace(KZ_HALT, country="ZZ")),
         C.INVALID_PARAMETER, ("'ZZ'", "alpha-2")),
    Case("an exit window whose deadline has passed",
         cited(msgspec.structs.replace(KZ_EXIT, deadline_ms=TS - 1)),
         C.INVALID_PARAMETER, ("WITHDRAW_ONLY", "deadline in the future")),
    Case("a deadline without an exit window",
         cited(msgspec.structs.replace(KZ_HALT, deadline_ms=TS + DAY_MS)),
         C.INVALID_PARAMETER, ("deadline", "WITHDRAW_ONLY")),
    Case("a policy naming a capability twice",
         cited(msgspec.structs.replace(KZ_HALT, rules=KZ_HALT.rules * 2)),
         C.INVALID_PARAMETER, ("each capability at most once",)),
    Case("a condition on an open capability", cited(msgspec.structs.replace(KZ_HALT, rules=(
        Rule(capability=Capability.CRYPTO_DEPOSIT, access=Access.OPEN,
             condition=HoldingsAbove(asset="USDT", limit_raw=1)),))),
         C.INVALID_PARAMETER, ("CRYPTO_DEPOSIT", "OPEN")),
    Case("a condition excluding an asset without a reason", cited(excluding("ETH", reason=" ")),
         C.INVALID_PARAMETER, ("excluding ETH", "reason")),
    Case("a condition excluding an asset that does not exist", cited(excluding("DOGE")),
         C.UNKNOWN_ASSET, ("'DOGE'",)),
    Case("a condition meeting an asset nothing prices", cited(KZ_RICH, after=(KZ_RESIDENT,)),
         C.UNPRICED_HOLDINGS,
         ("'KZ large holders'", "ETH (held by 1 named account)", "reference price", "exclude"),
         (KZ_RESIDENT, deposit(6, "ETH", "1"))),
    Case("a scheduled change meeting an asset nothing prices",
         cited(KZ_RICH, cls=SchedulePolicyChange, effective_ms=TS + DAY_MS, after=(KZ_RESIDENT,)),
         C.UNPRICED_HOLDINGS, ("ETH (held by 1 named account)",),
         (KZ_RESIDENT, deposit(6, "ETH", "1"))),
    Case("a reference price of nothing",
         SetReferencePrice(asset="ETH", quote="USDT", price_raw=0, **OPS),
         C.INVALID_PARAMETER, ("above zero",)),
    Case("a reference price of an asset in itself",
         SetReferencePrice(asset="ETH", quote="ETH", price_raw=1, **OPS),
         C.INVALID_PARAMETER, ("one asset in another",)),
    Case("a reference price in an unknown asset",
         SetReferencePrice(asset="ETH", quote="EUR", price_raw=1, **OPS),
         C.UNKNOWN_ASSET, ("'EUR'",)),
    Case("a reference price set twice",
         SetReferencePrice(asset="ETH", quote="USDT", price_raw=raw("3000"), **OPS),
         C.NO_CHANGE, ("ETH", "USDT"),
         (SetReferencePrice(asset="ETH", quote="USDT", price_raw=raw("3000"), **OPS),)),
    Case("a policy sweep of no customers at a time", cited(KZ_HALT, sweep_batch=0),
         C.INVALID_PARAMETER, ("sweep batch",)),
    Case("a policy change without a reason", cited(KZ_HALT, reason=""),
         C.REASON_REQUIRED, ("SetJurisdictionPolicy", "reason")),
    Case(
        "an apply citing the preview of another change",
        msgspec.structs.replace(cited(KZ_HALT), spec=KZ_EXIT),
        C.PREVIEW_MISMATCH, (cited(KZ_HALT).preview_id, "was not made for it"),
   ),
    Case("an apply whose preview predates an onboarding", cited(KZ_HALT),
         C.PREVIEW_STALE, ("0 customers with 0 accounts then", "1 with 1 now"), (KZ_RESIDENT,)),
    Case("a restore where no policy is in force",
         cited(PolicySpec(name="KZ normal", country="KZ",
                          rules=rules(Access.OPEN, Capability.TRADING))),
         C.NO_CHANGE, ("KZ", "already")),
    Case("a policy applied twice", cited(KZ_HALT, after=(KZ_RESIDENT,)),
         C.NO_CHANGE, ("KZ", "already"), (KZ_RESIDENT, cited(KZ_HALT, after=(KZ_RESIDENT,)))),
    Case("a change scheduled in the past",
         cited(KZ_HALT, cls=SchedulePolicyChange, effective_ms=TS - 1),
         C.INVALID_PARAMETER, ("time in the future",)),
    Case("an exit window closing before it opens",
         cited(KZ_EXIT, cls=SchedulePolicyChange, effective_ms=KZ_EXIT.deadline_ms),
         C.INVALID_PARAMETER, ("deadline", "after the change")),
    Case("cancel a change never scheduled", CancelScheduledChange(schedule_id=4, **OPS),
         C.INVALID_PARAMETER, ("change 4",)),
    Case("run policies when nothing is due", RunDuePolicies(actor="system:clock", ts_ms=TS),
         C.NO_CHANGE, ("nothing is due",)),
    Case("continue a sweep that is finished",
         ContinuePolicySweep(actor="system:clock", ts_ms=TS, sweep_id=3),
         C.NO_CHANGE, ("policy sweep 3",)),
    Case(
        "a withdrawal on request without the request",
        WithdrawOnRequest(account_id=6, asset="BTC", amount_raw=raw("0.1"), destination=BTC_ADDRESS,
                          request_ref=" ", **OPS),
        C.INVALID_PARAMETER, ("request_ref",), (KZ_RESIDENT, deposit(6, "BTC", "1")),
   ),
    Case(
        "a withdrawal on request where the customer may withdraw",
        WithdrawOnRequest(account_id=6, asset="BTC", amount_raw=raw("0.1"), destination=BTC_ADDRESS,
                          request_ref="REQ-1", **OPS),
        C.INVALID_PARAMETER, ("account 6", "may withdraw BTC itself"),
        (KZ_RESIDENT, deposit(6, "BTC", "1")),
   ),
    Case(
        "a withdrawal on request from a house account",
        WithdrawOnRequest(account_id=1, asset="BTC", amount_raw=raw("0.1"), destination=BTC_ADDRESS,
                          request_ref="REQ-1", **OPS),
        C.INVALID_PARAMETER, ("account 1",),
   ),
    Case("a venue code that is not upper case",
         DefineVenue(venue="kz-1", name="KZ", jurisdictions=("KZ",), **OPS),
         C.INVALID_PARAMETER, ("'kz-1'",)),
    Case("a venue listing an unknown symbol",
         DefineVenue(venue="KZX", name="KZ", jurisdictions=("KZ",), symbols=("DOGEUSDT",), **OPS),
         C.INVALID_PARAMETER, ("'DOGEUSDT'",)),
    Case("a venue serving an unknown jurisdiction",
         DefineVenue(venue="KZX", name="KZ", jurisdictions=("QQ",), **OPS),
         C.INVALID_PARAMETER, ("jurisdiction", "'QQ'")),
    Case("two venues serving one country",
         DefineVenue(venue="KZY", name="Other KZ", jurisdictions=("KZ", "UZ"), **OPS),
         C.INVALID_PARAMETER, ("KZX", "already serves KZ"),
         (DefineVenue(venue="KZX", name="KZ", jurisdictions=("KZ",), **OPS),)),
]
# fmt: on


def _world() -> Runner:
    """Accounts 1–4 with 1 BTC and 100000 USDT, account 5 with USDT only; a trade at 50000;
    account 1 asks 0.1 at 51000 ("ask-1"), account 2 bids 0.1 at 49000 ("bid-1"); account 3 is
    frozen, account 4 may neither trade nor withdraw."""
    r = world(accounts=4, funds={"BTC": "1", "USDT": "100000"})
    r.do(OpenAccount)
    r.deposit(5, "USDT", "100000")
    r.limit(1, SELL, "50000", "0.01")
    r.limit(2, BUY, "50000", "0.01")
    r.limit(1, SELL, "51000", "0.1", cid="ask-1")
    r.limit(2, BUY, "49000", "0.1", cid="bid-1")
    r.limit(3, BUY, "48000", "0.1", cid="frozen-bid")
    r.execute(withdraw(3, "BTC", "0.2"))  # withdrawal 1, pending when account 3 is frozen
    r.do(FreezeAccount, account_id=3, reason="sanctions list hit", evidence="hit-1")
    r.do(SetAccountPermissions, account_id=4, can_trade=False, can_deposit=True, can_withdraw=False)
    for events in r.events:
        assert not of(events, CommandRejected), events
    assert r.state.symbols["BTCUSDT"].last_price == raw("50000")
    return r


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_refused_with_a_reason_and_no_change(case: Case) -> None:
    r = _world()
    for cmd in case.setup:
        assert not of(r.execute(cmd), CommandRejected)
    before = snapshot.dump(r.state)
    cmd = case.command
    if isinstance(cmd, ApproveProposal) and cmd.digest == PROPOSED_DIGEST:
        cmd = msgspec.structs.replace(cmd, digest=r.state.proposals[cmd.proposal_id].digest)

    events = r.execute(cmd)

    assert len(events) == 1, events
    rejected = events[0]
    assert isinstance(rejected, CommandRejected)
    assert rejected.code is case.code, rejected.reason
    assert rejected.command == type(case.command).__name__
    assert rejected.account_id == getattr(case.command, "account_id", 0)
    assert rejected.reason.strip()
    assert isinstance(case.mentions, tuple) and case.mentions
    for needle in case.mentions:
        assert needle in rejected.reason, f"{needle!r} not named in {rejected.reason!r}"
    assert tuple(binance_error(rejected.code)) == BINANCE[case.code]
    r.state.last_seq -= 1
    assert snapshot.dump(r.state) == before
    assert violations(r.state) == []


def test_every_code_has_a_binance_error() -> None:
    assert set(BINANCE_ERRORS) == set(RejectCode)
    for code in RejectCode:
        assert binance_error(code).code < 0 and binance_error(code).msg, code


def test_the_table_exercises_every_code_the_engine_uses() -> None:
    # Demo symbols accept every order type, so UNSUPPORTED_ORDER_TYPE has its own test below.
    unused = {C.UNSUPPORTED_ORDER_TYPE}
    assert {c.code for c in CASES} == set(RejectCode) - unused


def test_unsupported_order_type() -> None:
    r = world(accounts=1, symbols=())
    spec = msgspec.structs.replace(
        SYMBOLS["BTCUSDT"], order_types=(OrderType.LIMIT, OrderType.MARKET)
    )
    assert not of(r.do(ListSymbol, spec=spec), CommandRejected)
    before = snapshot.dump(r.state)
    rejected = one(r.execute(place(1, BUY, LIMIT_MAKER, price="50000")), CommandRejected)
    assert rejected.code is C.UNSUPPORTED_ORDER_TYPE
    assert "LIMIT_MAKER" in rejected.reason and "BTCUSDT" in rejected.reason
    assert tuple(binance_error(rejected.code)) == (-1116, "Invalid orderType.")
    r.state.last_seq -= 1
    assert snapshot.dump(r.state) == before
    assert violations(r.state) == []


def test_cancel_only_market_still_cancels() -> None:
    r = _world()
    assert not of(r.execute(status(SymbolStatus.CANCEL_ONLY)), CommandRejected)
    canceled = one(r.cancel(2, cid="bid-1"), OrderCanceled)
    assert canceled.client_order_id == "bid-1"
    assert one(r.cancel_all(1), OrderCanceled).client_order_id == "ask-1"
    assert r.balance(1, "BTC")[1] == 0 and r.balance(2, "USDT")[1] == 0
    assert violations(r.state) == []


def test_a_refused_order_can_be_sent_again_once_fixed() -> None:
    r = _world()
    assert one(r.execute(place(qty="0.000015")), CommandRejected).code is RejectCode.LOT_SIZE
    assert not of(r.execute(place(qty="0.0002", price="48000")), CommandRejected)
    assert violations(r.state) == []


CONVERSIONS = [
    ("49000.123", 2, "3 decimals"),
    ("0.000000001", 8, "9 decimals"),
    ("abc", 8, "not a decimal number"),
    ("NaN", 8, "not a decimal number"),
    ("Infinity", 8, "not a decimal number"),
    ("1e5", 8, "no exponent"),  # Binance refuses exponents: so does every edge
    ("1_000", 8, "not a decimal number"),
    (".5", 8, "not a decimal number"),
    ("1" * 33, 8, "more than 40 digits"),
]


@pytest.mark.parametrize(("text", "precision", "message"), CONVERSIONS)
def test_edge_conversion_refuses_rather_than_rounds(
    text: str, precision: int, message: str
) -> None:
    with pytest.raises(PrecisionError, match=message):
        to_raw(text, precision)


def test_edge_conversion_is_exact() -> None:
    assert to_raw("49000.12", 2) == 4_900_012
    assert to_raw("49000.120", 2) == 4_900_012  # trailing zeros are not extra decimals
    assert to_raw("0.00000001", 8) == 1
    assert to_raw(" 1 ", 8) == 100_000_000
    # beyond Decimal's 28 significant digits: still exact
    assert to_raw("99999999999999999999.999999999999999999", 18) == 10**38 - 1
