"""A proposal in words, from the read model as it is now: the command in one line a compliance
officer reads in a list (`summary`), and field by field (`fields_of`). `proposal_effects` tells,
beside it, what approving it would do."""

from typing import Any

import msgspec

from bourse.api.admin.partners import deposit_json
from bourse.api.console.dashboard import rules_text
from bourse.api.console.partners import (
    KINDS,
    card_text,
    partner_name,
)
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
    OffboardStaff,
    OnboardCustomer,
    ResolveStatementLine,
    SaveCard,
    SchedulePolicyChange,
    SetFourEyes,
    SetJurisdictionPolicy,
    SettleCardDeposit,
    WithdrawOnRequest,
)
from bourse.compliance.evidence import score_text
from bourse.compliance.staff import ROLES
from bourse.domain.money import to_str
from bourse.view import ReadModel

SUMMARY_MAX = 140
OUTGOING_DONE = {"RETURN": "returned", "REROUTE": "rerouted"}
_NOT_FIELDS = ("actor", "ts_ms", "reason")  # every command's: shown as the proposal's own


def amount_text(view: ReadModel, asset: str, raw: int) -> str:
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


def cutoff_text(view: ReadModel, cmd: CutOffBank) -> str:
    spec = cmd.spec
    bank = view.banks.get(spec.bic)
    name = f"{bank.name} ({spec.bic})" if bank is not None else spec.bic
    when = f"from {utc(spec.effective_ms)}" if spec.effective_ms else "at once"
    return (
        f"cut off {name}, {CAUSE_TEXT[spec.cause]}; payouts sent "
        f"{OUTGOING_DONE.get(spec.outgoing.value, spec.outgoing.value)}, {when}"
    )


def end_text(view: ReadModel, cmd: EndPaymentPartner) -> str:
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
        return f"credit {amount_text(view, cmd.asset, cmd.amount_raw)} to " + _account_text(
            view, cmd.account_id
        )
    if isinstance(cmd, WithdrawOnRequest):
        return (
            f"pay out {amount_text(view, cmd.asset, cmd.amount_raw)} from "
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
        return cutoff_text(view, cmd)
    if isinstance(cmd, EndPaymentPartner):
        return end_text(view, cmd)
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
            text += f" (= {amount_text(view, command['asset'], v)})"
        rows.append((name, text, isinstance(v, dict | list)))
    return rows
