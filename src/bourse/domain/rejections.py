"""Why the engine refuses a command: one code per reason, numbered by pipeline stage.

The engine refuses with values, never exceptions: a `Refusal` carries one of these codes and a full
sentence. The Binance error the gateway answers each code with is the gateway's
(`bourse.api.binance.errors`).
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
    NOT_PERMITTED = 117  # the staff member's role does not permit this command
    OUT_OF_SCOPE = 118  # the command concerns a customer, venue or country outside their scope
    UNKNOWN_STAFF = 119  # no such staff member, or one who has left
    FOUR_EYES_REQUIRED = 120  # this command type runs only as an approved proposal
    SELF_APPROVAL = 121  # the approver proposed it, or is not a person entitled to decide it
    PROPOSAL_EXPIRED = 122
    PROPOSAL_STALE = 123  # what the proposal concerns has changed since it was made
    BANK_CUT_OFF = 124  # a fiat transfer through a partner bank that is cut off
    PARTNER_ENDED = 125  # a card payment through a payment partner that has ended
    BANK_SUSPENDED = 126  # a fiat transfer through a partner bank suspended for now
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
    CANCEL_RESTRICTED = 405  # the order is not in the status the cancel is restricted to
    UNKNOWN_PROPOSAL = 406  # no such proposal, or one already decided


class Refusal(NamedTuple):
    """A command refused: which rule, and a full sentence a person can act on."""

    code: RejectCode
    reason: str
