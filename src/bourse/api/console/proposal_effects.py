"""What a proposal would do, told from the read model as it is now: the command in a line and
field by field, and beside it what it concerns (the account and its customer, the alert's
customer beside the listed entry, the policy in force beside the proposed one with its preview
counted again, a staff member's role now and as proposed). The approvals inbox shows it."""

from typing import Any

import msgspec

from bourse.api.admin.banks import queued_json
from bourse.api.admin.cutoffs import impact_json
from bourse.api.admin.partners import deposit_json, end_impact_json
from bourse.api.admin.preview import rendered
from bourse.api.console.banks import total_rows, transfer_rows
from bourse.api.console.dashboard import rules_text
from bourse.api.console.partners import (
    KINDS,
    card_text,
    deposit_rows,
    partner_name,
    pending_totals,
)
from bourse.api.console.partners import total_rows as deposit_totals
from bourse.api.console.web import (
    utc,
)
from bourse.banking.cutoff import CAUSE_TEXT
from bourse.commands import (
    AddStaff,
    CancelScheduledChange,
    ChangeStaff,
    Command,
    ConfirmScreeningAlert,
    CutOffBank,
    DefinePaymentPartner,
    Deposit,
    DismissScreeningAlert,
    EndPaymentPartner,
    FreezeAccount,
    OffboardStaff,
    OnboardCustomer,
    ResolveStatementLine,
    SaveCard,
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

SUMMARY_MAX = 140
OUTGOING_DONE = {"RETURN": "returned", "REROUTE": "rerouted"}
_NOT_FIELDS = ("actor", "ts_ms", "reason")  # every command's: shown as the proposal's own


# --- a command in a line, and its fields ------------------------------------------------------


def _amount(view: ReadModel, asset: str, raw: int) -> str:
    precision = view.assets.get(asset)
    return f"{raw} (raw)" if precision is None else f"{to_str(raw, precision)} {asset}"


def _customer_name(view: ReadModel, customer_id: int) -> str:
    cust = view.customers.get(customer_id)
    return f"customer {customer_id}" + (f", {cust.legal_name}" if cust is not None else "")


def _account_text(view: ReadModel, account_id: int) -> str:
    acct = view.accounts.get(account_id)
    if acct is None or not acct.customer_id:
        return f"account {account_id}" + ("" if acct is None else " (house)")
    return f"account {account_id} ({_customer_name(view, acct.customer_id)})"


def _cutoff_text(view: ReadModel, cmd: CutOffBank) -> str:
    spec = cmd.spec
    bank = view.banks.get(spec.bic)
    name = f"{bank.name} ({spec.bic})" if bank is not None else spec.bic
    when = f"from {utc(spec.effective_ms)}" if spec.effective_ms else "at once"
    return (
        f"cut off {name}, {CAUSE_TEXT[spec.cause]}; payouts sent "
        f"{OUTGOING_DONE.get(spec.outgoing.value, spec.outgoing.value)}, {when}"
    )


def _end_text(view: ReadModel, cmd: EndPaymentPartner) -> str:
    spec = cmd.spec
    partner = view.payment_partners.get(spec.partner)
    name = f"{partner.name} ({spec.partner})" if partner is not None else spec.partner
    when = f"from {utc(spec.effective_ms)}" if spec.effective_ms else "at once"
    return f"end the partnership with {name}, {when}"


def _card_deposit_text(view: ReadModel, deposit_id: int) -> str:
    d = view.card_deposits.get(deposit_id)
    if d is None:
        return f"card deposit {deposit_id}"
    return (
        f"card deposit {d.id} ({deposit_json(view, d)['amount']} {d.currency}, "
        f"{partner_name(view, d.partner)} {card_text(view, d.card_id)})"
    )


def _line_text(view: ReadModel, item_id: int) -> str:
    item = view.bank_queue.get(item_id)
    if item is None:
        return f"statement line {item_id}"
    entry = item.entry
    party = f" from {entry.counterparty_name}" if entry.counterparty_name else ""
    return f"statement line {item_id} ({entry.amount} {entry.currency}{party})"


def _scope_text(venues: tuple[str, ...], countries: tuple[str, ...]) -> str:
    scope = [*venues, *countries]
    return f" for {', '.join(scope)}" if scope else ""


def summary(view: ReadModel, cmd: Command) -> str:
    """What `cmd` would do, in one line a compliance officer reads in a list."""
    text = _summary(view, cmd)
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1] + "…"


def _summary(view: ReadModel, cmd: Command) -> str:
    if isinstance(cmd, Deposit):
        return f"credit {_amount(view, cmd.asset, cmd.amount_raw)} to " + _account_text(
            view, cmd.account_id
        )
    if isinstance(cmd, WithdrawOnRequest):
        return (
            f"pay out {_amount(view, cmd.asset, cmd.amount_raw)} from "
            f"{_account_text(view, cmd.account_id)} to {cmd.destination}"
        )
    if isinstance(cmd, SetJurisdictionPolicy | SchedulePolicyChange):
        spec = cmd.spec
        text = f"{spec.country} ({spec.basis.value.lower()}) '{spec.name}': {rules_text(spec)}"
        if isinstance(cmd, SchedulePolicyChange):
            text += f", from {utc(cmd.effective_ms)}"
        return text
    if isinstance(cmd, CancelScheduledChange):
        scheduled = view.scheduled.get(cmd.schedule_id)
        where = f" ({scheduled.spec.country}, '{scheduled.spec.name}')" if scheduled else ""
        return f"cancel scheduled change {cmd.schedule_id}{where}"
    if isinstance(cmd, ConfirmScreeningAlert | DismissScreeningAlert):
        alert = view.alerts.get(cmd.alert_id)
        if alert is None:
            return f"alert {cmd.alert_id}"
        ev = alert.evidence
        return (
            f"alert {alert.id} ({alert.kind}): {_customer_name(view, alert.customer_id)} vs "
            f"{ev.listed_name} ({ev.source} {ev.entry_id}, score {score_text(ev.score_bp)})"
        )
    if isinstance(cmd, AddStaff | ChangeStaff):
        return f"{cmd.name} as {ROLES[cmd.role].title.lower()}" + _scope_text(
            cmd.venues, cmd.countries
        )
    if isinstance(cmd, OffboardStaff):
        return cmd.name + (f", work to {cmd.reassign_to}" if cmd.reassign_to else "")
    if isinstance(cmd, SetFourEyes):
        named = sorted(c for c in cmd.commands if c != "SetFourEyes")
        return f"four eyes on {', '.join(named)}" if named else "four eyes off for everything"
    if isinstance(cmd, OnboardCustomer):
        return f"{cmd.legal_name}, {cmd.nationality} national resident in {cmd.residence}"
    if isinstance(cmd, CutOffBank):
        return _cutoff_text(view, cmd)
    if isinstance(cmd, EndPaymentPartner):
        return _end_text(view, cmd)
    if isinstance(cmd, DefinePaymentPartner):
        kind = KINDS.get(cmd.kind, cmd.kind).lower()
        return (
            f"{cmd.name} ({cmd.code}), {kind}: {', '.join(cmd.currencies)}, serving residents "
            f"of {', '.join(cmd.serves)}"
        )
    if isinstance(cmd, SaveCard):  # never its token: the token alone can charge the card
        return (
            f"save {partner_name(view, cmd.partner)} card ending {cmd.last4}, expires "
            f"{cmd.expiry}, of {_customer_name(view, cmd.customer_id)}"
        )
    if isinstance(cmd, SettleCardDeposit):
        deposit = _card_deposit_text(view, cmd.deposit_id)
        d = view.card_deposits.get(cmd.deposit_id)
        if not cmd.settled:
            return f"reverse {deposit}"
        return f"settle {deposit}" + (
            f" into {_account_text(view, d.account_id)}" if d is not None else ""
        )
    if isinstance(cmd, ResolveStatementLine):
        line = _line_text(view, cmd.item_id)
        if cmd.account_id:
            return f"credit {line} to {_account_text(view, cmd.account_id)}"
        return f"close {line} without crediting"
    account_id = getattr(cmd, "account_id", None)
    if isinstance(account_id, int):
        rest = _fields_text(cmd, skip=("account_id",))
        return _account_text(view, account_id) + (f": {rest}" if rest else "")
    return _fields_text(cmd)


def _fields_text(cmd: Command, skip: tuple[str, ...] = ()) -> str:
    fields: dict[str, Any] = msgspec.to_builtins(cmd)
    shown = [
        f"{k} {_value(v)}"
        for k, v in fields.items()
        if k not in (*_NOT_FIELDS, *skip, "type") and v not in ("", (), [], None)
    ]
    return ", ".join(shown)


def _value(v: Any) -> str:
    if isinstance(v, str):
        return v
    return msgspec.json.encode(v).decode()


def fields_of(view: ReadModel, proposal: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """The proposed command's fields (as the admin API shows them): name, value as text
    (amounts also as decimals of their asset), and whether it is structured (JSON)."""
    command: dict[str, Any] = proposal["command"]
    rows = []
    for name, v in command.items():
        text = _value(v) or "—"
        if name == "token" and proposal["type"] == "SaveCard" and isinstance(v, str):
            text = f"…{v[-4:]} (the rest is not shown: the token alone can charge the card)"
        if name == "amount_raw" and isinstance(v, int) and isinstance(command.get("asset"), str):
            text += f" (= {_amount(view, command['asset'], v)})"
        rows.append((name, text, isinstance(v, dict | list)))
    return rows


# --- what it would do ------------------------------------------------------------------------


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
        what = f"Credits {_amount(view, cmd.asset, cmd.amount_raw)} to account {acct.id}."
    elif isinstance(cmd, WithdrawOnRequest):
        what = (
            f"Pays out {_amount(view, cmd.asset, cmd.amount_raw)} from account {acct.id} to "
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
    what = f"Cuts off {_cutoff_text(view, cmd).removeprefix('cut off ')}."
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
    text = _end_text(view, cmd).removeprefix("end ")
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
