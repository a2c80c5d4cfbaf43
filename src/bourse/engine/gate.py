"""The compliance gate: the first stage of every command, and the one place that says who may act.

Today it enforces the account state (frozen, canTrade/canDeposit/canWithdraw), symbol status and
that operators give a reason. Jurisdiction policies, sanctions freezes and bank cut-offs join here
later, with the same answer: None to go on, or a Refusal naming the rule and the reason.
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
    OperatorCommand,
    PlaceOrder,
    RequestWithdrawal,
    SetAccountFeeTier,
    SetAccountPermissions,
    UnfreezeAccount,
)
from bourse.domain.enums import SymbolStatus
from bourse.domain.rejections import Refusal, RejectCode
from bourse.engine.state import FEE_ACCOUNT_ID, Account, EngineState

_TRADING = SymbolStatus.TRADING
_CANCEL_ONLY = SymbolStatus.CANCEL_ONLY


def check(state: EngineState, cmd: Command) -> Refusal | None:
    """Whether `cmd` may run at all, before any validation of its content."""
    if type(cmd) is PlaceOrder or type(cmd) is CancelReplaceOrder:
        return _may_trade(state, cmd.account_id, cmd.symbol)
    if type(cmd) is CancelOrder or type(cmd) is CancelAllOrders:
        return _may_cancel(state, cmd.account_id, cmd.symbol)
    if isinstance(cmd, OperatorCommand) and not cmd.reason.strip():
        return Refusal(
            RejectCode.REASON_REQUIRED,
            f"{type(cmd).__name__} by {cmd.actor} needs a reason: "
            "every operator action records why",
        )
    if isinstance(cmd, Deposit):
        acct = state.accounts.get(cmd.account_id)
        if acct is None:
            return _unknown_account(cmd.account_id)
        if not acct.can_deposit:
            return Refusal(
                RejectCode.DEPOSIT_DISABLED, f"deposits are disabled on account {acct.id}"
            )
        return None
    if isinstance(cmd, RequestWithdrawal):
        acct = state.accounts.get(cmd.account_id)
        if acct is None:
            return _unknown_account(cmd.account_id)
        if acct.frozen:
            return _frozen(acct)
        if not acct.can_withdraw:
            return Refusal(
                RejectCode.WITHDRAW_DISABLED, f"withdrawals are disabled on account {acct.id}"
            )
        return None
    if isinstance(cmd, CompleteWithdrawal):
        # A freeze stops the account's funds from moving: a pending withdrawal can only fail
        # (return to the frozen balance), never leave.
        w = state.withdrawals.get(cmd.withdrawal_id)
        if w is not None and state.accounts[w.account_id].frozen:
            return Refusal(
                RejectCode.ACCOUNT_FROZEN,
                f"withdrawal {w.id} cannot complete: account {w.account_id} is frozen",
            )
        return None
    if isinstance(
        cmd,
        (SetAccountPermissions, SetAccountFeeTier, FreezeAccount, UnfreezeAccount, CreateApiKey),
    ) and (cmd.account_id == FEE_ACCOUNT_ID or cmd.account_id not in state.accounts):
        return _unknown_account(cmd.account_id)
    return None


def _may_trade(state: EngineState, account_id: int, symbol: str) -> Refusal | None:
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


def _unknown_symbol(symbol: str) -> Refusal:
    return Refusal(RejectCode.UNKNOWN_SYMBOL, f"symbol {symbol!r} is not listed")


def _frozen(acct: Account) -> Refusal:
    return Refusal(RejectCode.ACCOUNT_FROZEN, f"account {acct.id} is frozen")
