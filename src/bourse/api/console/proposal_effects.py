"""What approving a proposal would do, told from the read model as it is now: what it concerns
(the account and its customer, the alert's customer beside the listed entry, the policy in force
beside the proposed one with its preview counted again, a staff member's role now and as
proposed). The approvals inbox shows it beside the proposal in words (`proposal_summary`)."""

from typing import Any

from bourse.api.admin.banks import queued_json
from bourse.api.admin.cutoffs import impact_json
from bourse.api.admin.partners import deposit_json, end_impact_json
from bourse.api.admin.preview import rendered
from bourse.api.console.banks import total_rows, transfer_rows
from bourse.api.console.dashboard import rules_text
from bourse.api.console.partners import (
    card_text,
    deposit_rows,
    pending_totals,
)
from bourse.api.console.partners import total_rows as deposit_totals
from bourse.api.console.proposal_summary import amount_text, cutoff_text, end_text
from bourse.api.console.web import (
    utc,
)
from bourse.commands import (
    AddStaff,
    CancelScheduledChange,
    ChangeStaff,
    Command,
    ConfirmScreeningAlert,
    CutOffBank,
    Deposit,
    DismissScreeningAlert,
    EndPaymentPartner,
    FreezeAccount,
    OffboardStaff,
    ResolveStatementLine,
    SchedulePolicyChange,
    SetFourEyes,
    SetJurisdictionPolicy,
    SettleCardDeposit,
    UnfreezeAccount,
    UpdateCustomer,
    WithdrawOnRequest,
)
from bourse.compliance.alerts import BENEFICIARY, DELISTING
from bourse.compliance.evidence import score_text
from bourse.compliance.staff import ROLES
from bourse.domain.money import to_str
from bourse.server.service import GatewayService
from bourse.view import ReadModel
from bourse.view.model import AccountView, CustomerView, StaffView


def _account_facts(view: ReadModel, acct: AccountView) -> dict[str, Any]:
    if not acct.frozen:
        state = ""
    elif acct.manual_freeze:
        state = f"by staff: {acct.manual_freeze}"
    else:
        state = "by a confirmed sanctions match or a policy"
    allowed = [
        name
        for name, flag in (
            ("trade", acct.can_trade),
            ("deposit", acct.can_deposit),
            ("withdraw", acct.can_withdraw),
        )
        if flag
    ]
    balances = [
        (b.asset, to_str(b.free, view.assets[b.asset]), to_str(b.locked, view.assets[b.asset]))
        for b in sorted(acct.balances.values(), key=lambda b: b.asset)
        if (b.free or b.locked) and b.asset in view.assets
    ]
    return {
        "id": acct.id,
        "frozen": acct.frozen,
        "state": state,
        "may": ", ".join(allowed) or "nothing",
        "open_orders": len(acct.open_orders),
        "fee_tier": acct.fee_tier,
        "balances": balances,
    }


def _customer_facts(view: ReadModel, cust: CustomerView) -> dict[str, Any]:
    return {
        "id": cust.id,
        "name": cust.legal_name,
        "born": cust.date_of_birth,
        "nationality": cust.nationality,
        "residence": cust.residence,
        "venue": cust.venue or "—",
        "kyc_level": cust.kyc_level,
        "risk_tier": cust.risk_tier.value.lower(),
        "accounts": list(cust.accounts),
        "held_by": list(cust.held_by),
    }


def _account_effect(view: ReadModel, cmd: Command, account_id: int) -> dict[str, Any]:
    acct = view.accounts.get(account_id)
    if acct is None:
        return {"kind": "text", "what": f"account {account_id} does not exist"}
    cust = view.customers.get(acct.customer_id)
    facts = _account_facts(view, acct)
    what = _doc(cmd)
    warning = ""
    if isinstance(cmd, FreezeAccount):
        what = (
            f"Freezes account {acct.id}: it stops everything the account initiates and "
            f"cancels its {facts['open_orders']} open orders."
        )
        if acct.frozen:
            warning = "The account is already frozen: the approval will be refused."
    elif isinstance(cmd, UnfreezeAccount):
        what = f"Lifts the freeze on account {acct.id}."
        if not acct.frozen:
            warning = "The account is not frozen: the approval will be refused."
    elif isinstance(cmd, Deposit):
        what = f"Credits {amount_text(view, cmd.asset, cmd.amount_raw)} to account {acct.id}."
    elif isinstance(cmd, WithdrawOnRequest):
        what = (
            f"Pays out {amount_text(view, cmd.asset, cmd.amount_raw)} from account {acct.id} to "
            f"{cmd.destination} (request {cmd.request_ref})."
        )
    return {
        "kind": "account",
        "what": what,
        "warning": warning,
        "account": facts,
        "customer": None if cust is None else _customer_facts(view, cust),
    }


def _alert_effect(
    view: ReadModel, cmd: ConfirmScreeningAlert | DismissScreeningAlert
) -> dict[str, Any]:
    alert = view.alerts.get(cmd.alert_id)
    if alert is None:
        return {"kind": "text", "what": f"alert {cmd.alert_id} does not exist"}
    cust = view.customers.get(alert.customer_id)
    if isinstance(cmd, DismissScreeningAlert):
        what = (
            "Dismisses the alert as a false positive, remembered with who, when and why: the "
            "entry is not raised again for this customer unless it changes."
        )
    elif alert.kind == DELISTING:
        what = (
            "Confirms the delisting: the freeze the listing caused is lifted, unless another "
            "confirmed listing still stands or staff froze an account by hand."
        )
    elif alert.kind == BENEFICIARY:
        what = (
            f"Confirms the payee is the listed party: withdrawal {alert.withdrawal_id} fails "
            "and the money stays on the account."
        )
    else:
        accounts = ", ".join(str(a) for a in cust.accounts) if cust is not None else ""
        what = (
            f"Confirms the customer is the listed party: every account of theirs ({accounts}) "
            "is frozen, citing this evidence, and their open orders are canceled."
        )
    ev = alert.evidence
    return {
        "kind": "alert",
        "what": what,
        "warning": f"The alert was {alert.decision} already." if alert.decision else "",
        "alert": {
            "id": alert.id,
            "kind": alert.kind,
            "raised_ms": alert.raised_ms,
            "score": score_text(ev.score_bp),
            "source": ev.source,
            "entry_id": ev.entry_id,
            "listed_name": ev.listed_name,
            "list_version": ev.list_sha256[:12],
            "explanation": ev.explanation,
        },
        "customer": None if cust is None else _customer_facts(view, cust),
    }


async def _policy_effect(
    service: GatewayService, cmd: SetJurisdictionPolicy | SchedulePolicyChange
) -> dict[str, Any]:
    """The proposed spec beside the policy in force, and its preview counted again now: the
    approval applies only while it names the people the cited preview named."""
    view = service.view
    spec = cmd.spec
    impact = await service.preview(spec)
    preview = rendered(view, impact)
    current = view.policies(spec.basis).get(spec.country)
    when = f"from {utc(cmd.effective_ms)}" if isinstance(cmd, SchedulePolicyChange) else "at once"
    return {
        "kind": "policy",
        "what": f"Puts '{spec.name}' in force for {spec.country} "
        f"({spec.basis.value.lower()}), {when}.",
        "warning": ""
        if preview["previewId"] == cmd.preview_id
        else (
            f"The people it names have changed since the preview it cites ({cmd.preview_id}, "
            f"{cmd.previewed.customers} customers and {cmd.previewed.accounts} accounts): "
            "the approval will be refused; propose it again from a fresh preview."
        ),
        "rules": rules_text(spec),
        "deadline_ms": spec.deadline_ms,
        "current": None
        if current is None
        else {
            "name": current.spec.name,
            "rules": rules_text(current.spec),
            "deadline_ms": current.spec.deadline_ms,
            "actor": current.actor,
            "applied_ms": current.applied_ms,
        },
        "cited": cmd.preview_id,
        "preview": preview,
    }


def _scheduled_effect(view: ReadModel, cmd: CancelScheduledChange) -> dict[str, Any]:
    s = view.scheduled.get(cmd.schedule_id)
    if s is None:
        return {"kind": "text", "what": f"scheduled change {cmd.schedule_id} no longer waits"}
    return {
        "kind": "scheduled",
        "what": f"Cancels scheduled change {s.id}: it will not apply.",
        "scheduled": {
            "name": s.spec.name,
            "country": s.spec.country,
            "basis": s.spec.basis.value.lower(),
            "rules": rules_text(s.spec),
            "effective_ms": s.effective_ms,
            "actor": s.actor,
            "reason": s.reason,
        },
    }


def _staff_row(member: StaffView | None) -> dict[str, str]:
    if member is None:
        return {"role": "not on staff", "venues": "—", "countries": "—", "team": "—"}
    return {
        "role": ROLES[member.role].title + ("" if member.active else " (offboarded)"),
        "venues": ", ".join(member.venues) or "—",
        "countries": ", ".join(member.countries) or "—",
        "team": member.team or "—",
    }


def _staff_effect(view: ReadModel, cmd: AddStaff | ChangeStaff | OffboardStaff) -> dict[str, Any]:
    member = view.staff.get(cmd.name)
    now = _staff_row(member)
    if isinstance(cmd, OffboardStaff):
        proposed = {"role": "offboarded", "venues": "—", "countries": "—", "team": "—"}
        to = cmd.reassign_to or (f"team:{member.team}" if member and member.team else "—")
        what = f"Ends {cmd.name}'s access at once; their open work moves to {to}."
    else:
        proposed = {
            "role": ROLES[cmd.role].title,
            "venues": ", ".join(cmd.venues) or "—",
            "countries": ", ".join(cmd.countries) or "—",
            "team": cmd.team or "—",
        }
        verb = "Adds" if isinstance(cmd, AddStaff) else "Changes"
        what = f"{verb} {cmd.name}: {ROLES[cmd.role].summary}."
    rows = [
        (label, now[key], proposed[key], now[key] != proposed[key])
        for key, label in (
            ("role", "Role"),
            ("venues", "Venues"),
            ("countries", "Countries"),
            ("team", "Team"),
        )
    ]
    return {"kind": "compare", "what": what, "rows": rows}


def _four_eyes_effect(view: ReadModel, cmd: SetFourEyes) -> dict[str, Any]:
    now = set(view.four_eyes)
    wanted = set(cmd.commands)
    if wanted:
        wanted.add("SetFourEyes")  # as the engine does
    rows = [
        (name, "yes" if name in now else "no", "yes" if name in wanted else "no", True)
        for name in sorted(now ^ wanted)
    ]
    what = (
        "Changes which commands a person sends only as a proposal."
        if wanted
        else "Turns four eyes off: every command runs on one person's word."
    )
    return {"kind": "compare", "what": what, "rows": rows, "header": "Needs four eyes"}


def _customer_effect(view: ReadModel, cmd: UpdateCustomer) -> dict[str, Any]:
    cust = view.customers.get(cmd.customer_id)
    if cust is None:
        return {"kind": "text", "what": f"customer {cmd.customer_id} does not exist"}
    changes = [
        ("Legal name", cust.legal_name, cmd.legal_name),
        ("Nationality", cust.nationality, cmd.nationality),
        ("Residence", cust.residence, cmd.residence),
        ("KYC level", str(cust.kyc_level), "" if cmd.kyc_level < 0 else str(cmd.kyc_level)),
        ("Risk tier", cust.risk_tier.value, cmd.risk_tier.value if cmd.risk_tier else ""),
    ]
    rows = [(label, now, new or now, bool(new) and new != now) for label, now, new in changes]
    return {"kind": "compare", "what": f"Changes customer {cust.id}'s KYC record.", "rows": rows}


async def _cutoff_effect(service: GatewayService, cmd: CutOffBank) -> dict[str, Any]:
    """Whom and what the cut-off touches, previewed again now: the approval applies only while
    it is what the cited preview saw."""
    view = service.view
    what = f"Cuts off {cutoff_text(view, cmd).removeprefix('cut off ')}."
    try:
        impact = await service.cutoff_preview(cmd.spec)
    except ValueError as exc:
        return {
            "kind": "text",
            "what": what,
            "warning": f"It cannot apply as it stands: {exc}. The approval will be refused.",
        }
    shown = impact_json(view, impact)
    transfers, _ = transfer_rows(view, None, shown["transfers"])
    return {
        "kind": "cutoff",
        "what": what,
        "warning": ""
        if impact.preview_id == cmd.preview_id
        else (
            f"What it touches has changed since the preview it cites ({cmd.preview_id}): the "
            "approval will be refused; propose it again from a fresh preview."
        ),
        "cited": cmd.preview_id,
        "preview": shown,
        "transfers": transfers,
        "totals": total_rows(view, impact.by_currency),
    }


async def _end_effect(service: GatewayService, cmd: EndPaymentPartner) -> dict[str, Any]:
    """Whom and what the partner's end touches, previewed again now: the approval applies only
    while it is what the cited preview saw."""
    view = service.view
    text = end_text(view, cmd).removeprefix("end ")
    what = (
        f"Ends {text}: no card deposit goes through it from then, its saved cards end, and the "
        "card deposits pending then still settle or reverse."
    )
    try:
        impact = await service.partner_end_preview(cmd.spec)
    except ValueError as exc:
        return {
            "kind": "text",
            "what": what,
            "warning": f"It cannot apply as it stands: {exc}. The approval will be refused.",
        }
    shown = end_impact_json(view, impact)
    pending, _ = deposit_rows(view, None, shown["pending"])
    return {
        "kind": "partner_end",
        "what": what,
        "warning": ""
        if impact.preview_id == cmd.preview_id
        else (
            f"Its saved cards or pending card deposits have changed since the preview it cites "
            f"({cmd.preview_id}): the approval will be refused; propose it again from a fresh "
            "preview."
        ),
        "cited": cmd.preview_id,
        "preview": shown,
        "sample": [{**s, "card": _card_of(view, s)} for s in impact.sample],
        "pending": pending,
        "totals": deposit_totals(view, pending_totals(impact.by_currency)),
    }


def _card_of(view: ReadModel, sampled: dict[str, object]) -> str:
    card_id = sampled.get("card_id")
    return card_text(view, card_id if isinstance(card_id, int) else 0)


def _settle_effect(view: ReadModel, cmd: SettleCardDeposit) -> dict[str, Any]:
    d = view.card_deposits.get(cmd.deposit_id)
    if d is None:
        return {"kind": "text", "what": f"Card deposit {cmd.deposit_id} does not exist."}
    shown = deposit_json(view, d)
    if cmd.settled:
        what = (
            f"Settles card deposit {d.id}: credits {shown['amount']} {d.currency} to account "
            f"{d.account_id} through the deposit path (reversed instead, refunded to the card, "
            "if the deposit rules refuse it then)."
        )
    else:
        what = (
            f"Reverses card deposit {d.id}: nothing is credited; the partner gives "
            f"{shown['amount']} {d.currency} back to the card."
        )
    warning = (
        ""
        if d.status == "PENDING"
        else f"The deposit is {d.status.lower()} already: the approval will be refused."
    )
    acct = view.accounts.get(d.account_id)
    if acct is None:
        return {"kind": "text", "what": what, "warning": warning}
    cust = view.customers.get(acct.customer_id)
    return {
        "kind": "account",
        "what": what,
        "warning": warning,
        "account": _account_facts(view, acct),
        "customer": None if cust is None else _customer_facts(view, cust),
    }


def _line_effect(view: ReadModel, cmd: ResolveStatementLine) -> dict[str, Any]:
    item = view.bank_queue.get(cmd.item_id)
    if item is None:
        return {
            "kind": "text",
            "what": f"Statement line {cmd.item_id} is no longer open in the reconciliation queue.",
            "warning": "The approval will be refused.",
        }
    line = queued_json(view, item)
    acct = view.accounts.get(cmd.account_id) if cmd.account_id else None
    cust = view.customers.get(acct.customer_id) if acct is not None else None
    if cmd.account_id:
        credited = f"{line['amount']} {line['currency']}"
        what = f"Credits {credited} to account {cmd.account_id}, citing the line."
    else:
        what = "Closes the line without crediting anyone."
    return {
        "kind": "line",
        "what": what,
        "warning": ""
        if acct is not None or not cmd.account_id
        else (f"There is no account {cmd.account_id}: the approval will be refused."),
        "line": line,
        "account": None if acct is None else _account_facts(view, acct),
        "customer": None if cust is None else _customer_facts(view, cust),
    }


def _doc(cmd: Command) -> str:
    doc = (type(cmd).__doc__ or "").strip()
    first = " ".join(doc.split("\n\n")[0].split())
    return first or f"Runs {type(cmd).__name__} with the fields shown."


async def effect(service: GatewayService, cmd: Command) -> dict[str, Any]:
    """What approving `cmd` would do (`what`), what it concerns as it stands now (by `kind`),
    and what would stop it (`warning`)."""
    return {"warning": "", **await _effect(service, cmd)}


async def _effect(service: GatewayService, cmd: Command) -> dict[str, Any]:
    view = service.view
    if isinstance(cmd, SetJurisdictionPolicy | SchedulePolicyChange):
        return await _policy_effect(service, cmd)
    if isinstance(cmd, CancelScheduledChange):
        return _scheduled_effect(view, cmd)
    if isinstance(cmd, ConfirmScreeningAlert | DismissScreeningAlert):
        return _alert_effect(view, cmd)
    if isinstance(cmd, AddStaff | ChangeStaff | OffboardStaff):
        return _staff_effect(view, cmd)
    if isinstance(cmd, SetFourEyes):
        return _four_eyes_effect(view, cmd)
    if isinstance(cmd, UpdateCustomer):
        return _customer_effect(view, cmd)
    if isinstance(cmd, CutOffBank):
        return await _cutoff_effect(service, cmd)
    if isinstance(cmd, ResolveStatementLine):
        return _line_effect(view, cmd)
    if isinstance(cmd, EndPaymentPartner):
        return await _end_effect(service, cmd)
    if isinstance(cmd, SettleCardDeposit):
        return _settle_effect(view, cmd)
    account_id = getattr(cmd, "account_id", None)
    if isinstance(account_id, int):
        return _account_effect(view, cmd, account_id)
    return {"kind": "text", "what": _doc(cmd)}
