"""Why the engine refuses a command: one code per reason, numbered by pipeline stage.

The engine refuses with values, never exceptions: a `Refusal` carries one of these codes and a full
sentence. Each code also names the Binance error the gateway answers with, so the mapping lives in
one table instead of being rediscovered by every route.
"""

from enum import IntEnum
from typing import NamedTuple


class RejectCode(IntEnum):
    # 1xx: the compliance gate (who may do what, which market is open)
    UNKNOWN_ACCOUNT = 101
    ACCOUNT_FROZEN = 102
    TRADING_DISABLED = 103
    DEPOSIT_DISABLED = 104
    WITHDRAW_DISABLED = 105
    MARKET_CLOSED = 106
    MARKET_CANCEL_ONLY = 107
    REASON_REQUIRED = 108
    JURISDICTION_POLICY = 109  # a jurisdiction policy stops this capability for this customer
    NOT_LISTED_ON_VENUE = 110  # the symbol is not listed on the customer's venue
    UNKNOWN_CUSTOMER = 111
    SANCTIONED_DESTINATION = 112  # a withdrawal to an address a sanctions list names
    UNSCREENED_BENEFICIARY = 113  # a fiat payee not screened against the lists in force
    WITHDRAWAL_HELD = 114  # a withdrawal held for a screening review cannot complete yet
    CUSTOMER_HELD = 115  # a new customer held until their onboarding screening alert is decided
    LISTING_STANDS = 116  # an unfreeze refused: a confirmed sanctions listing still stands
    # 2xx: validation against the symbol, its filters and the account's orders
    UNKNOWN_SYMBOL = 201
    UNKNOWN_ASSET = 202
    INVALID_PARAMETER = 203
    PRICE_FILTER = 204
    LOT_SIZE = 205
    MARKET_LOT_SIZE = 206
    NOTIONAL = 207
    DUPLICATE_CLIENT_ORDER_ID = 208
    UNSUPPORTED_ORDER_TYPE = 209
    ALREADY_EXISTS = 210
    NO_CHANGE = 211
    PREVIEW_MISMATCH = 212  # the apply cites a preview made for another change
    PREVIEW_STALE = 213  # the people the change names are no longer those the preview showed
    UNPRICED_HOLDINGS = 214  # a holdings condition would have to value a held asset at a guess
    # 3xx: risk, the funds a command needs
    INSUFFICIENT_BALANCE = 301
    # 4xx: matching and order state
    WOULD_TAKE = 401
    WOULD_TRIGGER_IMMEDIATELY = 402
    UNKNOWN_ORDER = 403
    UNKNOWN_WITHDRAWAL = 404

    @property
    def binance(self) -> "BinanceError":
        return BINANCE_ERRORS[self]

    def binance_for(self, reason: str) -> "BinanceError":
        """The Binance error for a refusal, with the engine's sentence where the client must
        learn which rule stopped it (a jurisdiction policy, a venue's listing)."""
        err = BINANCE_ERRORS[self]
        if self in _EXPLAINED:
            return BinanceError(err.code, f"{err.msg} {reason[:1].upper()}{reason[1:]}.")
        return err


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
    # Not explained to the customer (no tipping-off): staff read the alert in the admin answer.
    RejectCode.CUSTOMER_HELD: BinanceError(_REJECTED, "This action is disabled on this account."),
    RejectCode.LISTING_STANDS: BinanceError(-1102, "A sanctions listing still stands."),
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
}


_EXPLAINED = frozenset(
    {
        RejectCode.JURISDICTION_POLICY,
        RejectCode.NOT_LISTED_ON_VENUE,
        RejectCode.SANCTIONED_DESTINATION,
    }
)


class Refusal(NamedTuple):
    """A command refused: which rule, and a full sentence a person can act on."""

    code: RejectCode
    reason: str
