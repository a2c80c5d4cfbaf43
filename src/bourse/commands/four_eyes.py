"""Four eyes: which commands need a second person, and proposals of them."""

from typing import Union

import msgspec

from bourse.commands.accounts import (
    CreateApiKey,
    FreezeAccount,
    OpenAccount,
    RevokeApiKey,
    SetAccountFeeTier,
    SetAccountPermissions,
    UnfreezeAccount,
)
from bourse.commands.audit import RotateAuditKey
from bourse.commands.banks import (
    AddBankAccount,
    CreatePaymentFile,
    CutOffBank,
    DecideBankAccount,
    DefineBank,
    ImportStatement,
    ResolveStatementLine,
    SuspendBank,
)
from bourse.commands.base import Command, OperatorCommand
from bourse.commands.cards import (
    DefinePaymentPartner,
    EndPaymentPartner,
    ReceiveCardDeposit,
    SaveCard,
    SettleCardDeposit,
)
from bourse.commands.customers import (
    CancelScheduledChange,
    DefineVenue,
    OnboardCustomer,
    SchedulePolicyChange,
    SetJurisdictionPolicy,
    UpdateCustomer,
    WithdrawOnRequest,
)
from bourse.commands.funds import CompleteWithdrawal, Deposit, FailWithdrawal, RequestWithdrawal
from bourse.commands.reference import (
    CreateAsset,
    DefineFeeTier,
    ListSymbol,
    SetReferencePrice,
    SetSymbolStatus,
)
from bourse.commands.screening import (
    ConfirmScreeningAlert,
    DismissScreeningAlert,
    ForceListVersion,
)
from bourse.commands.staff import (
    AddStaff,
    ChangeStaff,
    OffboardStaff,
    RevokeStaffToken,
)


class SetFourEyes(OperatorCommand, frozen=True, kw_only=True, tag="SetFourEyes"):
    """The command types a staff member (or the operator token) may send only as a proposal a
    second, entitled person approves. While any are named, changing the set needs four eyes
    too."""

    commands: tuple[str, ...]


# What may be proposed: every command a person sends with a reason, except issuing a token
# (whose secret only its issuer sees) and the proposal commands themselves.
Proposable = Union[
    CreateAsset,
    ListSymbol,
    SetSymbolStatus,
    SetReferencePrice,
    DefineFeeTier,
    DefineVenue,
    OpenAccount,
    SetAccountPermissions,
    SetAccountFeeTier,
    FreezeAccount,
    UnfreezeAccount,
    CreateApiKey,
    RevokeApiKey,
    Deposit,
    RequestWithdrawal,
    CompleteWithdrawal,
    FailWithdrawal,
    OnboardCustomer,
    UpdateCustomer,
    SetJurisdictionPolicy,
    SchedulePolicyChange,
    CancelScheduledChange,
    WithdrawOnRequest,
    ConfirmScreeningAlert,
    DismissScreeningAlert,
    ForceListVersion,
    AddStaff,
    ChangeStaff,
    RevokeStaffToken,
    OffboardStaff,
    SetFourEyes,
    RotateAuditKey,
    DefineBank,
    AddBankAccount,
    DecideBankAccount,
    ImportStatement,
    ResolveStatementLine,
    CreatePaymentFile,
    CutOffBank,
    SuspendBank,
    DefinePaymentPartner,
    SaveCard,
    ReceiveCardDeposit,
    SettleCardDeposit,
    EndPaymentPartner,
]


class ProposeCommand(OperatorCommand, frozen=True, kw_only=True, tag="ProposeCommand"):
    """`command` (sent by the same actor), to run only once a second, entitled person approves
    it before `expires_ms`. `evidence` is what the approver should look at."""

    command: Proposable
    expires_ms: int
    evidence: str = ""


def proposal_of(cmd: Command, *, expires_ms: int, evidence: str = "") -> ProposeCommand:
    """`cmd` as a proposal of its own actor, with its reason, made at its time."""
    return ProposeCommand(
        command=msgspec.convert(msgspec.to_builtins(cmd), Proposable),
        expires_ms=expires_ms,
        evidence=evidence,
        reason=getattr(cmd, "reason", ""),
        actor=cmd.actor,
        ts_ms=cmd.ts_ms,
    )


class ApproveProposal(OperatorCommand, frozen=True, kw_only=True, tag="ApproveProposal"):
    """Runs the proposal's command now, citing the digest the approver was shown: refused if
    it is not the proposal's, if the world it was proposed in has changed, if it expired, or if
    the approver is the proposer or not entitled to it."""

    proposal_id: int
    digest: str


class RejectProposal(OperatorCommand, frozen=True, kw_only=True, tag="RejectProposal"):
    proposal_id: int


class WithdrawProposal(OperatorCommand, frozen=True, kw_only=True, tag="WithdrawProposal"):
    """The proposer takes their proposal back."""

    proposal_id: int
