"""Every command: an immutable request to change state, the only input the engine accepts.

Each command carries who asked (`actor`), when it was accepted (`ts_ms`, stamped by the gateway;
the engine never reads a clock) and, where an operator acts, why (`reason`). The tag is the
journal format: never rename or renumber one, add a new command instead. Amounts are raw integers
scaled by the asset's precision (`*_raw`); the gateway converts decimal strings before this point.
"""

from typing import Union

import msgspec

from bourse import codec
from bourse.commands.accounts import (
    CloseListenKey,
    CreateApiKey,
    ExtendListenKey,
    FreezeAccount,
    OpenAccount,
    OpenListenKey,
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
    ContinuePolicySweep,
    DefineVenue,
    OnboardCustomer,
    RunDuePolicies,
    SchedulePolicyChange,
    SetJurisdictionPolicy,
    UpdateCustomer,
    WithdrawOnRequest,
)
from bourse.commands.four_eyes import (
    ApproveProposal,
    Proposable,
    ProposeCommand,
    RejectProposal,
    SetFourEyes,
    WithdrawProposal,
    proposal_of,
)
from bourse.commands.funds import CompleteWithdrawal, Deposit, FailWithdrawal, RequestWithdrawal
from bourse.commands.orders import CancelAllOrders, CancelOrder, CancelReplaceOrder, PlaceOrder
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
    ForgetDismissals,
    ListedAddress,
    RaiseDelistingReview,
    RaiseScreeningAlert,
    RecordRescreen,
    SetSanctionedAddresses,
)
from bourse.commands.staff import (
    AddStaff,
    AssignWork,
    ChangeStaff,
    IssueStaffToken,
    OffboardMany,
    OffboardStaff,
    OpenStaffSession,
    RecordAccess,
    RevokeStaffToken,
    SetStaffCredentials,
)

AnyCommand = Union[
    CreateAsset,
    ListSymbol,
    SetSymbolStatus,
    SetReferencePrice,
    DefineFeeTier,
    OpenAccount,
    SetAccountPermissions,
    SetAccountFeeTier,
    FreezeAccount,
    UnfreezeAccount,
    CreateApiKey,
    RevokeApiKey,
    OpenListenKey,
    ExtendListenKey,
    CloseListenKey,
    Deposit,
    RequestWithdrawal,
    CompleteWithdrawal,
    FailWithdrawal,
    PlaceOrder,
    CancelOrder,
    CancelAllOrders,
    CancelReplaceOrder,
    DefineVenue,
    OnboardCustomer,
    UpdateCustomer,
    SetJurisdictionPolicy,
    SchedulePolicyChange,
    CancelScheduledChange,
    RunDuePolicies,
    ContinuePolicySweep,
    WithdrawOnRequest,
    RaiseScreeningAlert,
    ConfirmScreeningAlert,
    DismissScreeningAlert,
    SetSanctionedAddresses,
    ForceListVersion,
    RaiseDelistingReview,
    ForgetDismissals,
    RecordRescreen,
    AddStaff,
    ChangeStaff,
    IssueStaffToken,
    RevokeStaffToken,
    OffboardStaff,
    SetStaffCredentials,
    OpenStaffSession,
    SetFourEyes,
    ProposeCommand,
    ApproveProposal,
    RejectProposal,
    WithdrawProposal,
    AssignWork,
    OffboardMany,
    RecordAccess,
    RotateAuditKey,
    DefineBank,
    AddBankAccount,
    DecideBankAccount,
    ImportStatement,
    ResolveStatementLine,
    SuspendBank,
    CreatePaymentFile,
    CutOffBank,
    SettleCardDeposit,
    SaveCard,
    ReceiveCardDeposit,
    EndPaymentPartner,
    DefinePaymentPartner,
]

_decoder = codec.Decoder[AnyCommand](AnyCommand)
_json_decoder = msgspec.json.Decoder(AnyCommand)


def encode_command(cmd: Command) -> bytes:
    """The journal's record payload for a command."""
    return codec.encode(cmd)


def decode_command(data: bytes | memoryview) -> AnyCommand:
    cmd: AnyCommand = _decoder.decode(data)
    return cmd


def command_from_json(data: bytes | str) -> AnyCommand:
    """Decode an operator's JSON command ({"type": "Deposit", ...}).

    Raises msgspec.ValidationError naming the field at fault.
    """
    cmd: AnyCommand = _json_decoder.decode(data)
    return cmd


__all__ = [
    "AddBankAccount",
    "AddStaff",
    "AnyCommand",
    "ApproveProposal",
    "AssignWork",
    "CancelAllOrders",
    "CancelOrder",
    "CancelReplaceOrder",
    "CancelScheduledChange",
    "ChangeStaff",
    "CloseListenKey",
    "Command",
    "CompleteWithdrawal",
    "ConfirmScreeningAlert",
    "ContinuePolicySweep",
    "CreateApiKey",
    "CreateAsset",
    "CreatePaymentFile",
    "CutOffBank",
    "DecideBankAccount",
    "DefineBank",
    "DefineFeeTier",
    "DefinePaymentPartner",
    "DefineVenue",
    "Deposit",
    "DismissScreeningAlert",
    "EndPaymentPartner",
    "ExtendListenKey",
    "FailWithdrawal",
    "ForceListVersion",
    "ForgetDismissals",
    "FreezeAccount",
    "ImportStatement",
    "IssueStaffToken",
    "ListSymbol",
    "ListedAddress",
    "OffboardMany",
    "OffboardStaff",
    "OnboardCustomer",
    "OpenAccount",
    "OpenListenKey",
    "OpenStaffSession",
    "OperatorCommand",
    "PlaceOrder",
    "Proposable",
    "ProposeCommand",
    "RaiseDelistingReview",
    "RaiseScreeningAlert",
    "ReceiveCardDeposit",
    "RecordAccess",
    "RecordRescreen",
    "RejectProposal",
    "RequestWithdrawal",
    "ResolveStatementLine",
    "RevokeApiKey",
    "RevokeStaffToken",
    "RotateAuditKey",
    "RunDuePolicies",
    "SaveCard",
    "SchedulePolicyChange",
    "SetAccountFeeTier",
    "SetAccountPermissions",
    "SetFourEyes",
    "SetJurisdictionPolicy",
    "SetReferencePrice",
    "SetSanctionedAddresses",
    "SetStaffCredentials",
    "SetSymbolStatus",
    "SettleCardDeposit",
    "SuspendBank",
    "UnfreezeAccount",
    "UpdateCustomer",
    "WithdrawOnRequest",
    "WithdrawProposal",
    "command_from_json",
    "decode_command",
    "encode_command",
    "proposal_of",
]
