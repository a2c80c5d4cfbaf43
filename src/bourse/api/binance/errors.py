"""The Binance error the gateway answers each engine refusal with: one table, so the mapping is
not rediscovered by every route (REST and the WebSocket API alike)."""

from typing import NamedTuple

from bourse.domain.rejections import RejectCode


class BinanceError(NamedTuple):
    """The `{"code","msg"}` Binance answers for a refusal (errors.md of binance-spot-api-docs)."""

    code: int
    msg: str


_REJECTED = -2010  # NEW_ORDER_REJECTED; the gateway uses -2011 for cancels
BINANCE_ERRORS: dict[RejectCode, BinanceError] = {
    RejectCode.UNKNOWN_ACCOUNT: BinanceError(
        -2015, "Invalid API-key, IP, or permissions for action."
    ),
    RejectCode.ACCOUNT_FROZEN: BinanceError(_REJECTED, "This action is disabled on this account."),
    RejectCode.TRADING_DISABLED: BinanceError(
        _REJECTED, "This action is disabled on this account."
    ),
    RejectCode.DEPOSIT_DISABLED: BinanceError(
        _REJECTED, "This action is disabled on this account."
    ),
    RejectCode.WITHDRAW_DISABLED: BinanceError(
        _REJECTED, "This action is disabled on this account."
    ),
    RejectCode.JURISDICTION_POLICY: BinanceError(
        _REJECTED, "This action is disabled on this account."
    ),
    RejectCode.NOT_LISTED_ON_VENUE: BinanceError(
        _REJECTED, "This symbol is not permitted for this account."
    ),
    RejectCode.UNKNOWN_CUSTOMER: BinanceError(-1102, "Unknown customer."),
    RejectCode.SANCTIONED_DESTINATION: BinanceError(
        _REJECTED, "This action is disabled on this account."
    ),
    RejectCode.UNSCREENED_BENEFICIARY: BinanceError(
        -1102, "The beneficiary was not screened against the sanctions lists in force."
    ),
    RejectCode.WITHDRAWAL_HELD: BinanceError(-1102, "The withdrawal is held for review."),
    RejectCode.BANK_CUT_OFF: BinanceError(-1102, "The bank is cut off from the exchange."),
    RejectCode.BANK_SUSPENDED: BinanceError(-1102, "The bank is suspended for now."),
    RejectCode.PARTNER_ENDED: BinanceError(-1102, "The card partner has left the exchange."),
    # Not explained to the customer (no tipping-off): staff read the alert in the admin answer.
    RejectCode.CUSTOMER_HELD: BinanceError(_REJECTED, "This action is disabled on this account."),
    RejectCode.LISTING_STANDS: BinanceError(-1102, "A sanctions listing still stands."),
    RejectCode.NOT_PERMITTED: BinanceError(
        -1002, "You are not authorized to execute this request."
    ),
    RejectCode.OUT_OF_SCOPE: BinanceError(-1002, "You are not authorized to execute this request."),
    RejectCode.UNKNOWN_STAFF: BinanceError(-1102, "Unknown staff member."),
    RejectCode.FOUR_EYES_REQUIRED: BinanceError(-1002, "A second person must approve this."),
    RejectCode.SELF_APPROVAL: BinanceError(
        -1002, "You are not authorized to execute this request."
    ),
    RejectCode.PROPOSAL_EXPIRED: BinanceError(-1102, "The proposal has expired."),
    RejectCode.PROPOSAL_STALE: BinanceError(-1102, "The proposal is out of date."),
    RejectCode.UNKNOWN_PROPOSAL: BinanceError(-1102, "Unknown proposal."),
    RejectCode.PREVIEW_MISMATCH: BinanceError(-1102, "The change does not match its preview."),
    RejectCode.PREVIEW_STALE: BinanceError(-1102, "The preview is out of date."),
    RejectCode.UNPRICED_HOLDINGS: BinanceError(
        -1102, "A holdings condition has no price for an asset the named accounts hold."
    ),
    RejectCode.MARKET_CLOSED: BinanceError(_REJECTED, "Market is closed."),
    RejectCode.MARKET_CANCEL_ONLY: BinanceError(_REJECTED, "Market is closed."),
    RejectCode.REASON_REQUIRED: BinanceError(
        -1102, "Mandatory parameter 'reason' was not sent, was empty/null, or malformed."
    ),
    RejectCode.UNKNOWN_SYMBOL: BinanceError(-1121, "Invalid symbol."),
    RejectCode.UNKNOWN_ASSET: BinanceError(-1100, "Illegal characters found in parameter 'asset'."),
    RejectCode.INVALID_PARAMETER: BinanceError(
        -1102, "A mandatory parameter was not sent, was empty/null, or malformed."
    ),
    RejectCode.PRICE_FILTER: BinanceError(-1013, "Filter failure: PRICE_FILTER"),
    RejectCode.LOT_SIZE: BinanceError(-1013, "Filter failure: LOT_SIZE"),
    RejectCode.MARKET_LOT_SIZE: BinanceError(-1013, "Filter failure: MARKET_LOT_SIZE"),
    RejectCode.NOTIONAL: BinanceError(-1013, "Filter failure: NOTIONAL"),
    RejectCode.DUPLICATE_CLIENT_ORDER_ID: BinanceError(_REJECTED, "Duplicate order sent."),
    RejectCode.UNSUPPORTED_ORDER_TYPE: BinanceError(-1116, "Invalid orderType."),
    RejectCode.ALREADY_EXISTS: BinanceError(-1102, "The object already exists."),
    RejectCode.NO_CHANGE: BinanceError(-1102, "The request changes nothing."),
    RejectCode.INSUFFICIENT_BALANCE: BinanceError(
        _REJECTED, "Account has insufficient balance for requested action."
    ),
    RejectCode.WOULD_TAKE: BinanceError(_REJECTED, "Order would immediately match and take."),
    RejectCode.WOULD_TRIGGER_IMMEDIATELY: BinanceError(
        _REJECTED, "Order would trigger immediately."
    ),
    RejectCode.UNKNOWN_ORDER: BinanceError(-2011, "Unknown order sent."),
    RejectCode.UNKNOWN_WITHDRAWAL: BinanceError(-1102, "Unknown withdrawal."),
    RejectCode.CANCEL_RESTRICTED: BinanceError(
        -2011, "Order was not canceled due to cancel restrictions."
    ),
}


_EXPLAINED = frozenset(
    {
        RejectCode.JURISDICTION_POLICY,
        RejectCode.NOT_LISTED_ON_VENUE,
        RejectCode.SANCTIONED_DESTINATION,
        RejectCode.BANK_CUT_OFF,
        RejectCode.BANK_SUSPENDED,
        RejectCode.PARTNER_ENDED,
    }
)


def binance_error(code: RejectCode, reason: str | None = None) -> BinanceError:
    """The Binance error for a refusal, with the engine's sentence (`reason`) where the client must
    learn which rule stopped it (a jurisdiction policy, a venue's listing)."""
    err = BINANCE_ERRORS[code]
    if reason is not None and code in _EXPLAINED:
        return BinanceError(err.code, f"{err.msg} {reason[:1].upper()}{reason[1:]}.")
    return err
