"""Every event: an immutable fact the engine produced. Everything downstream is built from these.

Events of one command travel together with that command's sequence number and time (see
`Outcome`), so they do not repeat them. Tags are the wire format: never rename one.
"""

from typing import Union

import msgspec

from bourse.events.accounts import (
    AccountFeeTierChanged,
    AccountFrozen,
    AccountPermissionsChanged,
    AccountUnfrozen,
    ApiKeyCreated,
    ApiKeyRevoked,
    ListenKeyClosed,
    ListenKeyExtended,
    ListenKeyOpened,
)
from bourse.events.banks import (
    BankAccountAdded,
    BankAccountDecided,
    BankCutOff,
    BankCutOffScheduled,
    BankDefined,
    PaymentFileCreated,
    PayoutSettled,
    StatementImported,
    StatementLineQueued,
    StatementLineResolved,
)
from bourse.events.base import (
    Event,
)
from bourse.events.customers import (
    AccountOpened,
    ClosureBalance,
    ClosureBalancesReported,
    CustomerRecorded,
    ExitWindowClosed,
    PolicyApplied,
    PolicyScheduled,
    PolicySweepProgressed,
    ScheduledChangeCanceled,
)
from bourse.events.funds import (
    DepositCredited,
    WithdrawalCompleted,
    WithdrawalFailed,
    WithdrawalRequested,
)
from bourse.events.orders import (
    BalanceChanged,
    CommandRejected,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderTriggered,
    TradeExecuted,
)
from bourse.events.reference import (
    AssetCreated,
    FeeTierDefined,
    ReferencePriceSet,
    SymbolListed,
    SymbolStatusChanged,
    VenueDefined,
)
from bourse.events.screening import (
    CustomerHeld,
    CustomerReleased,
    DismissalsForgotten,
    ListVersionForced,
    RescreenRecorded,
    SanctionedAddressesSet,
    ScreeningAlertDecided,
    ScreeningAlertRaised,
)
from bourse.events.staff import (
    AccessRecorded,
    AuditKeyRotated,
    FourEyesSet,
    ProposalDecided,
    ProposalMade,
    StaffCredentialsSet,
    StaffRecorded,
    StaffTokenIssued,
    StaffTokenRevoked,
    WorkAssigned,
)

AnyEvent = Union[
    RescreenRecorded,
    AssetCreated,
    SymbolListed,
    SymbolStatusChanged,
    ReferencePriceSet,
    FeeTierDefined,
    AccountOpened,
    VenueDefined,
    CustomerRecorded,
    PolicyApplied,
    PolicyScheduled,
    ScheduledChangeCanceled,
    PolicySweepProgressed,
    ExitWindowClosed,
    ClosureBalancesReported,
    ScreeningAlertRaised,
    ScreeningAlertDecided,
    DismissalsForgotten,
    CustomerHeld,
    CustomerReleased,
    SanctionedAddressesSet,
    ListVersionForced,
    AccountPermissionsChanged,
    AccountFeeTierChanged,
    AccountFrozen,
    AccountUnfrozen,
    ApiKeyCreated,
    ApiKeyRevoked,
    ListenKeyOpened,
    ListenKeyExtended,
    ListenKeyClosed,
    DepositCredited,
    WithdrawalRequested,
    WithdrawalCompleted,
    WithdrawalFailed,
    OrderAccepted,
    OrderTriggered,
    TradeExecuted,
    OrderCanceled,
    OrderExpired,
    BalanceChanged,
    StaffRecorded,
    StaffTokenIssued,
    StaffCredentialsSet,
    StaffTokenRevoked,
    FourEyesSet,
    ProposalMade,
    ProposalDecided,
    WorkAssigned,
    AccessRecorded,
    AuditKeyRotated,
    BankDefined,
    BankAccountAdded,
    BankAccountDecided,
    StatementImported,
    StatementLineQueued,
    StatementLineResolved,
    PaymentFileCreated,
    BankCutOffScheduled,
    BankCutOff,
    PayoutSettled,
    CommandRejected,
]


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    """What one sequenced command caused: released downstream only once its record is durable."""

    seq: int
    ts_ms: int
    command: str
    events: list[AnyEvent]

    @property
    def refused(self) -> bool:
        """Whether the engine refused the command (its events then hold the CommandRejected)."""
        return any(type(e) is CommandRejected for e in self.events)


__all__ = [
    "AccessRecorded",
    "AccountFeeTierChanged",
    "AccountFrozen",
    "AccountOpened",
    "AccountPermissionsChanged",
    "AccountUnfrozen",
    "AnyEvent",
    "ApiKeyCreated",
    "ApiKeyRevoked",
    "AssetCreated",
    "AuditKeyRotated",
    "BalanceChanged",
    "BankAccountAdded",
    "BankAccountDecided",
    "BankCutOff",
    "BankCutOffScheduled",
    "BankDefined",
    "ClosureBalance",
    "ClosureBalancesReported",
    "CommandRejected",
    "CustomerHeld",
    "CustomerRecorded",
    "CustomerReleased",
    "DepositCredited",
    "DismissalsForgotten",
    "Event",
    "ExitWindowClosed",
    "FeeTierDefined",
    "FourEyesSet",
    "ListVersionForced",
    "ListenKeyClosed",
    "ListenKeyExtended",
    "ListenKeyOpened",
    "OrderAccepted",
    "OrderCanceled",
    "OrderExpired",
    "OrderTriggered",
    "Outcome",
    "PaymentFileCreated",
    "PayoutSettled",
    "PolicyApplied",
    "PolicyScheduled",
    "PolicySweepProgressed",
    "ProposalDecided",
    "ProposalMade",
    "ReferencePriceSet",
    "RescreenRecorded",
    "SanctionedAddressesSet",
    "ScheduledChangeCanceled",
    "ScreeningAlertDecided",
    "ScreeningAlertRaised",
    "StaffCredentialsSet",
    "StaffRecorded",
    "StaffTokenIssued",
    "StaffTokenRevoked",
    "StatementImported",
    "StatementLineQueued",
    "StatementLineResolved",
    "SymbolListed",
    "SymbolStatusChanged",
    "TradeExecuted",
    "VenueDefined",
    "WithdrawalCompleted",
    "WithdrawalFailed",
    "WithdrawalRequested",
    "WorkAssigned",
]
