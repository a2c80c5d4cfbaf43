"""The engine: one `execute` per sequenced command, wiring the pipeline's stages in order.

    0. inputs            (inputs.check: are the command's numbers well-formed?)
    1. compliance gate   (gate.check: may this actor do this at all?)
    2. risk              (risk.validate / risk.required_hold, inside the order handlers)
    3. matching          (matching.match, via placement.place / work)
    4. ledger postings   (ledger.*, as fills and holds happen)
    5. events            (the handlers' events, then one BalanceChanged per touched balance)

A refused command leaves state as it was and yields one CommandRejected.
"""

from bourse.commands import (
    AddBankAccount,
    AddStaff,
    ApproveProposal,
    AssignWork,
    CancelAllOrders,
    CancelOrder,
    CancelReplaceOrder,
    CancelScheduledChange,
    ChangeStaff,
    CloseListenKey,
    Command,
    CompleteWithdrawal,
    ConfirmScreeningAlert,
    ContinuePolicySweep,
    CreateApiKey,
    CreateAsset,
    CreatePaymentFile,
    CutOffBank,
    DecideBankAccount,
    DefineBank,
    DefineFeeTier,
    DefinePaymentPartner,
    DefineVenue,
    Deposit,
    DismissScreeningAlert,
    EndPaymentPartner,
    ExtendListenKey,
    FailWithdrawal,
    ForceListVersion,
    ForgetDismissals,
    FreezeAccount,
    ImportStatement,
    IssueStaffToken,
    ListSymbol,
    OffboardMany,
    OffboardStaff,
    OnboardCustomer,
    OpenAccount,
    OpenListenKey,
    OpenStaffSession,
    OperatorCommand,
    PlaceOrder,
    ProposeCommand,
    RaiseDelistingReview,
    RaiseScreeningAlert,
    ReceiveCardDeposit,
    RecordAccess,
    RecordRescreen,
    RejectProposal,
    RequestWithdrawal,
    ResolveStatementLine,
    RevokeApiKey,
    RevokeStaffToken,
    RotateAuditKey,
    RunDuePolicies,
    SaveCard,
    SchedulePolicyChange,
    SetAccountFeeTier,
    SetAccountPermissions,
    SetFourEyes,
    SetJurisdictionPolicy,
    SetReferencePrice,
    SetSanctionedAddresses,
    SetStaffCredentials,
    SetSymbolStatus,
    SettleCardDeposit,
    SuspendBank,
    UnfreezeAccount,
    UpdateCustomer,
    WithdrawOnRequest,
    WithdrawProposal,
)
from bourse.compliance.staff import STAFF_PREFIX
from bourse.domain.rejections import Refusal, RejectCode
from bourse.engine import (
    admin,
    audit_keys,
    banks,
    cards,
    customers,
    cutoff,
    funds,
    gate,
    inputs,
    listen_keys,
    payouts,
    policies,
    proposals,
    risk,
    screening,
    staff,
    work,
)
from bourse.engine.cancels import cancel, cancel_all, cancel_replace
from bourse.engine.lists import force_version
from bourse.engine.output import Output
from bourse.engine.placement import place
from bourse.engine.state import EngineState
from bourse.events import AccessRecorded, AnyEvent, BalanceChanged, CommandRejected


class Engine:
    def __init__(self, state: EngineState | None = None) -> None:
        self.state = state if state is not None else EngineState()
        self._out = Output()

    def execute(self, seq: int, cmd: Command) -> list[AnyEvent]:
        """Apply command number `seq`; returns the events it caused, in order."""
        state = self.state
        if seq != state.last_seq + 1:
            raise ValueError(f"command seq {seq} does not follow {state.last_seq}")
        state.last_seq = seq
        out = self._out
        events: list[AnyEvent] = []
        out.events = events
        out.ts_ms = cmd.ts_ms
        refusal = inputs.check(state, cmd)  # 0. well-formed numbers, before any rule
        if refusal is None:
            refusal = gate.check(state, cmd)  # 1. compliance gate
        if refusal is None:
            refusal = self._dispatch(cmd)  # 2–4. risk, matching, ledger
        if refusal is not None:
            events.append(_rejected(cmd, refusal))
        touched = out.touched
        if touched:  # 5. the balances the command changed, as they stand now
            for bal in touched:
                events.append(
                    BalanceChanged(
                        account_id=bal.account_id,
                        asset=bal.asset,
                        free_raw=bal.free,
                        locked_raw=bal.locked,
                    )
                )
            touched.clear()
        return events

    def check(self, cmd: Command, *, approved: bool = False) -> Refusal | None:
        """What the engine's first stages (well-formed numbers, compliance gate, an order's own
        rules) would refuse `cmd` for now, without running or sequencing it: Binance's test
        order. Balances are not checked, as on Binance. `approved`: as an approved proposal."""
        state = self.state
        refusal = inputs.check(state, cmd) or gate.check(state, cmd, approved=approved)
        if refusal is None and isinstance(cmd, PlaceOrder):
            refusal = risk.validate(state.symbols[cmd.symbol], cmd)
        return refusal

    def _as_approved(self, cmd: Command) -> Refusal | None:
        """A proposal is checked when it is made, as if approved: nobody approves what could
        never run."""
        return self.check(cmd, approved=True)

    def _run_approved(self, cmd: Command) -> Refusal | None:
        """`cmd` through every stage, as an approved proposal (its events join the outcome)."""
        return self.check(cmd, approved=True) or self._dispatch(cmd)

    def _offboard_many(self, cmd: OffboardMany) -> Refusal | None:
        if not cmd.names or len(set(cmd.names)) != len(cmd.names):
            return Refusal(RejectCode.INVALID_PARAMETER, "name each person leaving once")
        return self._offboard(cmd.names, cmd.reassign_to, cmd, cmd.preview_id)

    def _offboard(
        self,
        names: tuple[str, ...],
        reassign_to: str,
        cmd: OperatorCommand,
        preview_id: str | None = None,
    ) -> Refusal | None:
        """One offboarding, of one person or of several together (citing `preview_id`, the
        preview they were shown): their work moves as `work.plan` says, or nothing happens;
        then each one's access ends and what they proposed is withdrawn."""
        state, out = self.state, self._out
        handover = work.plan(state, names, reassign_to)
        refusal = handover.refusal
        if refusal is not None:
            return refusal
        if preview_id is not None and handover.digest() != preview_id:
            return Refusal(
                RejectCode.PREVIEW_STALE,
                f"preview {preview_id} is not what offboarding {', '.join(names)} would do "
                "now: preview it again",
            )
        work.move_all(state, out, handover, cmd.actor, cmd.reason)
        for name in names:
            leaving = OffboardStaff(name=name, actor=cmd.actor, ts_ms=cmd.ts_ms, reason=cmd.reason)
            staff.offboard(state, out, leaving)  # checked by the plan: each one is active
            why = f"{name} offboarded: {cmd.reason}"
            proposals.withdraw_all_of(state, out, STAFF_PREFIX + name, cmd.actor, why)
        return None

    def _dispatch(self, cmd: Command) -> Refusal | None:
        state, out = self.state, self._out
        match cmd:
            case PlaceOrder():
                return place(
                    state, out, cmd, state.symbols[cmd.symbol], state.accounts[cmd.account_id]
                )
            case CancelOrder():
                return cancel(out, cmd, state.symbols[cmd.symbol], state.accounts[cmd.account_id])
            case CancelReplaceOrder():
                return cancel_replace(
                    state, out, cmd, state.symbols[cmd.symbol], state.accounts[cmd.account_id]
                )
            case CancelAllOrders():
                return cancel_all(
                    out, cmd, state.symbols[cmd.symbol], state.accounts[cmd.account_id]
                )
            case Deposit():
                return funds.deposit(state, out, cmd)
            case RequestWithdrawal():
                return funds.request_withdrawal(state, out, cmd)
            case CompleteWithdrawal():
                return funds.complete_withdrawal(state, out, cmd)
            case FailWithdrawal():
                return funds.fail_withdrawal(state, out, cmd)
            case OpenAccount():
                return admin.open_account(state, out, cmd)
            case SetAccountPermissions():
                return admin.set_permissions(state, out, cmd)
            case SetAccountFeeTier():
                return admin.set_fee_tier(state, out, cmd)
            case FreezeAccount():
                return admin.freeze(state, out, cmd)
            case UnfreezeAccount():
                return admin.unfreeze(state, out, cmd)
            case CreateApiKey():
                return admin.create_api_key(state, out, cmd)
            case RevokeApiKey():
                return admin.revoke_api_key(state, out, cmd)
            case OpenListenKey():
                return listen_keys.open_key(state, out, cmd)
            case ExtendListenKey():
                return listen_keys.extend_key(state, out, cmd)
            case CloseListenKey():
                return listen_keys.close_key(state, out, cmd)
            case CreateAsset():
                return admin.create_asset(state, out, cmd)
            case ListSymbol():
                return admin.list_symbol(state, out, cmd)
            case SetSymbolStatus():
                return admin.set_symbol_status(state, out, cmd)
            case SetReferencePrice():
                return admin.set_reference_price(state, out, cmd)
            case DefineFeeTier():
                return admin.define_fee_tier(state, out, cmd)
            case WithdrawOnRequest():
                return funds.request_withdrawal(state, out, cmd)
            case DefineVenue():
                return customers.define_venue(state, out, cmd)
            case OnboardCustomer():
                return customers.onboard(state, out, cmd)
            case UpdateCustomer():
                return customers.update(state, out, cmd)
            case SetJurisdictionPolicy():
                return policies.set_policy(state, out, cmd)
            case SchedulePolicyChange():
                return policies.schedule(state, out, cmd)
            case CancelScheduledChange():
                return policies.cancel_scheduled(state, out, cmd)
            case RunDuePolicies():
                return policies.run_due(state, out, cmd)
            case ContinuePolicySweep():
                return policies.continue_sweep(state, out, cmd)
            case RaiseScreeningAlert():
                return screening.raise_alert(state, out, cmd)
            case ConfirmScreeningAlert():
                return screening.confirm(state, out, cmd)
            case DismissScreeningAlert():
                return screening.dismiss(state, out, cmd)
            case SetSanctionedAddresses():
                return screening.set_addresses(state, out, cmd)
            case ForceListVersion():
                return force_version(state, out, cmd)
            case RaiseDelistingReview():
                return screening.raise_delisting_review(state, out, cmd)
            case ForgetDismissals():
                return screening.forget_dismissals(state, out, cmd)
            case RecordRescreen():
                return screening.record_rescreen(state, out, cmd)
            case AddStaff():
                return staff.add(state, out, cmd)
            case ChangeStaff():
                return staff.change(state, out, cmd)
            case IssueStaffToken():
                return staff.issue_token(state, out, cmd)
            case RevokeStaffToken():
                return staff.revoke_token(state, out, cmd)
            case SetStaffCredentials():
                return staff.set_credentials(state, out, cmd)
            case OpenStaffSession():
                return staff.open_session(state, out, cmd)
            case OffboardStaff():
                found = staff.active_member(state, cmd.name)
                if isinstance(found, Refusal):
                    return found
                return self._offboard((cmd.name,), cmd.reassign_to, cmd)
            case SetFourEyes():
                return proposals.set_four_eyes(state, out, cmd)
            case ProposeCommand():
                return proposals.propose(state, out, cmd, self._as_approved)
            case ApproveProposal():
                return proposals.approve(state, out, cmd, self._run_approved)
            case RejectProposal():
                return proposals.reject(state, out, cmd)
            case WithdrawProposal():
                return proposals.withdraw(state, out, cmd)
            case AssignWork():
                return work.assign(state, out, cmd)
            case OffboardMany():
                return self._offboard_many(cmd)
            case RecordAccess():
                out.events.append(AccessRecorded(path=cmd.path, query=cmd.query, actor=cmd.actor))
                return None
            case RotateAuditKey():
                return audit_keys.rotate(out, cmd)
            case DefineBank():
                return banks.define_bank(state, out, cmd)
            case AddBankAccount():
                return banks.add_bank_account(state, out, cmd)
            case DecideBankAccount():
                return banks.decide_bank_account(state, out, cmd)
            case ImportStatement():
                return banks.import_statement(state, out, cmd)
            case ResolveStatementLine():
                return banks.resolve_line(state, out, cmd)
            case CreatePaymentFile():
                return payouts.create_file(state, out, cmd)
            case CutOffBank():
                return cutoff.cut_off(state, out, cmd)
            case SuspendBank():
                return banks.suspend(state, out, cmd)
            case DefinePaymentPartner():
                return cards.define_partner(state, out, cmd)
            case SaveCard():
                return cards.save_card(state, out, cmd)
            case ReceiveCardDeposit():
                return cards.receive_deposit(state, out, cmd)
            case SettleCardDeposit():
                return cards.settle_deposit(state, out, cmd)
            case EndPaymentPartner():
                return cards.end_partner(state, out, cmd)
        raise TypeError(f"the engine has no handler for {type(cmd).__name__}")


def _rejected(cmd: Command, refusal: Refusal) -> CommandRejected:
    return CommandRejected(
        command=type(cmd).__name__,
        account_id=getattr(cmd, "account_id", 0),
        symbol=getattr(cmd, "symbol", ""),
        client_order_id=getattr(cmd, "client_order_id", ""),
        code=refusal.code,
        reason=refusal.reason,
    )
