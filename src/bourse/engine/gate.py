"""The compliance gate: the first stage of every command, and the one place that says who may act.

It enforces who is asking (a staff member's role and scope: engine/staff.py), the account state
(frozen, canTrade/canDeposit/canWithdraw), symbol status, that operators give a reason, the
customer's venue listing and their jurisdiction's policies (engine/jurisdiction.py), sanctions
holds and listed destinations. Each answers the same way: None to go on, or a Refusal naming the
rule and the reason.
"""

from bourse.commands import (
    CancelAllOrders,
    CancelOrder,
    CancelReplaceOrder,
    Command,
    CompleteWithdrawal,
    CreateApiKey,
    Deposit,
    FreezeAccount,
    OnboardCustomer,
    OpenAccount,
    OperatorCommand,
    PlaceOrder,
    RaiseScreeningAlert,
    RequestWithdrawal,
    SetAccountFeeTier,
    SetAccountPermissions,
    UnfreezeAccount,
    UpdateCustomer,
    WithdrawOnRequest,
)
from bourse.compliance.policy import Capability
from bourse.compliance.staff import STAFF_PREFIX
from bourse.domain.enums import SymbolStatus
from bourse.domain.rejections import Refusal, RejectCode
from bourse.engine.alerts import listings_text
from bourse.engine.jurisdiction import (
    closed_to,
    customer_refusal,
    deposit_capability,
    policy_refusal,
    venue_refusal,
    withdrawal_capability,
)
from bourse.engine.proposals import four_eyes_refusal, needs_four_eyes
from bourse.engine.screening import beneficiary_refusal, destination_refusal
from bourse.engine.staff import authorize
from bourse.engine.state import FEE_ACCOUNT_ID, Account, EngineState, Withdrawal

_TRADING = SymbolStatus.TRADING
_CANCEL_ONLY = SymbolStatus.CANCEL_ONLY


def check(state: EngineState, cmd: Command, *, approved: bool = False) -> Refusal | None:
    """Whether `cmd` may run at all, before any validation of its content. `approved`: it runs
    as a proposal a second person approved (engine/proposals.py), so four eyes are satisfied."""
    if cmd.actor.startswith(STAFF_PREFIX) and (refusal := authorize(state, cmd)) is not None:
        return refusal  # a staff member acts only as their role and scope allow
    if type(cmd) is PlaceOrder or type(cmd) is CancelReplaceOrder:
        return _may_trade(state, cmd.account_id, cmd.symbol, cmd.ts_ms)
    if type(cmd) is CancelOrder or type(cmd) is CancelAllOrders:
        return _may_cancel(state, cmd.account_id, cmd.symbol)
    if not approved and needs_four_eyes(state, cmd):
        return four_eyes_refusal(cmd)
    if isinstance(cmd, OperatorCommand) and not cmd.reason.strip():
        return Refusal(
            RejectCode.REASON_REQUIRED,
            f"{type(cmd).__name__} by {cmd.actor} needs a reason: "
            "every operator action records why",
        )
    if isinstance(cmd, Deposit):
        return deposit_refusal(state, cmd)
    if isinstance(cmd, RequestWithdrawal):
        acct = state.accounts.get(cmd.account_id)
        if acct is None:
            return _unknown_account(cmd.account_id)
        if acct.frozen:
            return _frozen(acct)
        if acct.customer_id and (refusal := _held(state, acct)):
            return refusal
        if not acct.can_withdraw:
            return Refusal(
                RejectCode.WITHDRAW_DISABLED, f"withdrawals are disabled on account {acct.id}"
            )
        if state.sanctioned_addresses and (refusal := destination_refusal(state, cmd.destination)):
            return refusal
        # A fiat payment names its payee; a crypto one may: either way a named payee is screened.
        if (cmd.asset in state.fiat_assets or cmd.beneficiary.strip()) and (
            refusal := beneficiary_refusal(state, cmd)
        ):
            return refusal
        if cmd.asset in state.fiat_assets and (
            refusal := cut_off_destination(state, acct.customer_id, cmd.destination, cmd.ts_ms)
        ):
            return refusal
        return customer_refusal(state, acct, withdrawal_capability(state, cmd.asset), cmd.ts_ms)
    if isinstance(cmd, CompleteWithdrawal):
        w = state.withdrawals.get(cmd.withdrawal_id)
        return None if w is None else completion_refusal(state, w, cmd.ts_ms)
    if isinstance(cmd, OnboardCustomer):
        return policy_refusal(
            state, cmd.residence, cmd.nationality, Capability.ONBOARDING, cmd.ts_ms
        )
    if isinstance(cmd, OpenAccount) and cmd.customer_id:
        cust = state.customers.get(cmd.customer_id)
        if cust is None:
            return _unknown_customer(cmd.customer_id)
        return policy_refusal(
            state, cust.residence, cust.nationality, Capability.ONBOARDING, cmd.ts_ms
        )
    if isinstance(cmd, (UpdateCustomer, RaiseScreeningAlert)) and (
        cmd.customer_id not in state.customers
    ):
        return _unknown_customer(cmd.customer_id)
    if isinstance(cmd, WithdrawOnRequest):
        return _may_pay_out_on_request(state, cmd)
    if isinstance(
        cmd,
        (
            SetAccountPermissions,
            SetAccountFeeTier,
            FreezeAccount,
            UnfreezeAccount,
            CreateApiKey,
        ),
    ) and (cmd.account_id == FEE_ACCOUNT_ID or cmd.account_id not in state.accounts):
        return _unknown_account(cmd.account_id)
    return None


def completion_refusal(state: EngineState, w: Withdrawal, ts_ms: int) -> Refusal | None:
    """Whether pending withdrawal `w` may leave now (completed, or sent in a payment file).

    A freeze stops the account's funds from moving: a pending withdrawal can only fail (return
    to the frozen balance), never leave. So does a policy closing withdrawals, except for a
    payout staff make at the customer's request."""
    acct = state.accounts[w.account_id]
    if acct.frozen:
        return Refusal(
            RejectCode.ACCOUNT_FROZEN,
            f"withdrawal {w.id} cannot complete: account {w.account_id} is frozen",
        )
    if acct.customer_id and (refusal := _held(state, acct)):
        return Refusal(refusal.code, f"withdrawal {w.id} cannot complete: {refusal.reason}")
    if w.held_by:
        held = ", ".join(str(a) for a in w.held_by)
        return Refusal(
            RejectCode.WITHDRAWAL_HELD,
            f"withdrawal {w.id} is held until a compliance officer decides screening "
            f"alert(s) {held} on its beneficiary {w.beneficiary!r}",
        )
    capability = withdrawal_capability(state, w.asset)
    if w.on_request_ref or closed_to(state, acct, capability, ts_ms):
        # accepted while the rules allowed it: closing the window later strands nothing
        return None
    refusal = customer_refusal(state, acct, capability, ts_ms)
    if refusal is not None:
        return Refusal(refusal.code, f"withdrawal {w.id} cannot complete: {refusal.reason}")
    return None


def cut_off_destination(
    state: EngineState, customer_id: int, iban: str, ts_ms: int
) -> Refusal | None:
    """A fiat payment to the customer's bank account at a partner bank that is cut off (or
    suspended)."""
    account = state.banking.bank_account_of(customer_id, iban)
    bank = state.banking.bank_of_bic(account.bic) if account is not None else None
    closed = bank.closed_as(ts_ms) if bank is not None else ""
    if bank is None or not closed:
        return None
    return Refusal(
        bank_closed_code(closed),
        f"{iban} is at {bank.name} ({bank.bic}), which is {closed}: no payment goes to it; "
        "withdraw to an account at another bank",
    )


def bank_closed_code(closed: str) -> RejectCode:
    return RejectCode.BANK_CUT_OFF if closed == "cut off" else RejectCode.BANK_SUSPENDED


def deposit_refusal(state: EngineState, cmd: Deposit) -> Refusal | None:
    """Whether the account may receive this deposit now (also asked of each statement line a
    bank statement would credit: engine/banks.py)."""
    acct = state.accounts.get(cmd.account_id)
    if acct is None:
        return _unknown_account(cmd.account_id)
    if not acct.can_deposit:
        return Refusal(RejectCode.DEPOSIT_DISABLED, f"deposits are disabled on account {acct.id}")
    if acct.customer_id and (refusal := _held(state, acct)):
        return refusal
    return customer_refusal(state, acct, deposit_capability(state, cmd.asset), cmd.ts_ms)


def _may_trade(state: EngineState, account_id: int, symbol: str, ts_ms: int) -> Refusal | None:
    acct = state.accounts.get(account_id)
    if acct is None or account_id == FEE_ACCOUNT_ID:
        return _unknown_account(account_id)
    if acct.frozen:
        return _frozen(acct)
    if not acct.can_trade:
        return Refusal(RejectCode.TRADING_DISABLED, f"trading is disabled on account {acct.id}")
    sym = state.symbols.get(symbol)
    if sym is None:
        return _unknown_symbol(symbol)
    if sym.status is not _TRADING:
        code = (
            RejectCode.MARKET_CANCEL_ONLY
            if sym.status is _CANCEL_ONLY
            else RejectCode.MARKET_CLOSED
        )
        return Refusal(code, f"{symbol} is {sym.status}: new orders are not accepted")
    if acct.customer_id:
        cust = state.customers[acct.customer_id]
        if cust.held_by:
            return _held(state, acct)
        if cust.venue:
            refusal = venue_refusal(state, cust, symbol)
            if refusal is not None:
                return refusal
        return customer_refusal(state, acct, Capability.TRADING, ts_ms)
    return None


def _may_pay_out_on_request(state: EngineState, cmd: WithdrawOnRequest) -> Refusal | None:
    acct = state.accounts.get(cmd.account_id)
    if acct is None or acct.id == FEE_ACCOUNT_ID:
        return _unknown_account(cmd.account_id)
    if acct.frozen:
        return _frozen(acct)
    if acct.customer_id and (refusal := _held(state, acct)):
        return refusal
    if state.sanctioned_addresses and (refusal := destination_refusal(state, cmd.destination)):
        return refusal
    if not cmd.request_ref.strip():
        return Refusal(
            RejectCode.INVALID_PARAMETER,
            "a withdrawal on request cites the customer's request (request_ref)",
        )
    capability = withdrawal_capability(state, cmd.asset)
    if not acct.customer_id or not closed_to(state, acct, capability, cmd.ts_ms):
        return Refusal(
            RejectCode.INVALID_PARAMETER,
            f"account {acct.id} may withdraw {cmd.asset} itself: withdrawal on request is for "
            "balances held in a jurisdiction whose withdrawals have closed",
        )
    return None


def _may_cancel(state: EngineState, account_id: int, symbol: str) -> Refusal | None:
    acct = state.accounts.get(account_id)
    if acct is None or account_id == FEE_ACCOUNT_ID:
        return _unknown_account(account_id)
    if acct.frozen:
        return _frozen(acct)
    sym = state.symbols.get(symbol)
    if sym is None:
        return _unknown_symbol(symbol)
    if sym.status is not _TRADING and sym.status is not _CANCEL_ONLY:
        return Refusal(
            RejectCode.MARKET_CLOSED, f"{symbol} is {sym.status}: orders cannot be canceled now"
        )
    return None


def _unknown_account(account_id: int) -> Refusal:
    return Refusal(RejectCode.UNKNOWN_ACCOUNT, f"account {account_id} does not exist")


def _unknown_customer(customer_id: int) -> Refusal:
    return Refusal(RejectCode.UNKNOWN_CUSTOMER, f"customer {customer_id} does not exist")


def _unknown_symbol(symbol: str) -> Refusal:
    return Refusal(RejectCode.UNKNOWN_SYMBOL, f"symbol {symbol!r} is not listed")


def _held(state: EngineState, acct: Account) -> Refusal | None:
    """A customer whose onboarding screening raised alerts moves no money until they are
    decided (a customer account only: one dict lookup, nothing for everyone else)."""
    held_by = state.customers[acct.customer_id].held_by
    if not held_by:
        return None
    alerts = listings_text([state.alerts[a] for a in held_by])
    return Refusal(
        RejectCode.CUSTOMER_HELD,
        f"account {acct.id} is held: customer {acct.customer_id}'s onboarding screening raised "
        f"{alerts}; no deposit, trade or withdrawal until a compliance officer decides",
    )


def _frozen(acct: Account) -> Refusal:
    return Refusal(RejectCode.ACCOUNT_FROZEN, f"account {acct.id} is frozen")
