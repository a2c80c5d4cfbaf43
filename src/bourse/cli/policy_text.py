"""How the policy commands show policies and previews: one line of rules, a preview's impact
tables, and the policies in force as short blocks that read at any terminal width."""

from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from bourse.cli.common import record_table, rows_table, show
from bourse.cli.console import out
from bourse.compliance.policy import Basis
from bourse.domain.calendar import utc_text

Limits = dict[tuple[str, int], str]  # (asset, limit_raw) → the decimal the operator typed


def _condition_text(condition: dict[str, Any], limits: Limits) -> str:
    asset, raw = condition["asset"], condition["limit_raw"]
    # the server adds the decimal `limit` where it shows a spec; a saved preview has only raw
    limit = condition.get("limit") or limits.get((asset, raw)) or f"{raw} raw units of"
    text = f"if holdings above {limit} {asset}"
    for e in condition.get("excluded") or ():
        text += f" not counting {e['asset']} ({e['reason']})"
    return text


def rules_text(spec: dict[str, Any], limits: Limits | None = None) -> str:
    """A spec's rules in one line: "TRADING SUSPENDED, CRYPTO_DEPOSIT CLOSED if ..."."""
    parts = []
    for rule in spec["rules"]:
        text = f"{rule['capability']} {rule['access']}"
        if rule.get("condition"):
            text += " " + _condition_text(rule["condition"], limits or {})
        parts.append(text)
    text = ", ".join(parts) or "all open"
    if spec.get("deadline_ms"):
        text += f"; exit window ends {utc_text(spec['deadline_ms'])}"
    return text


def show_preview(preview: dict[str, Any], saved: Path, limits: Limits | None = None) -> None:
    spec = preview["apply"]["spec"]
    impact = preview["impact"]
    counts = {
        "customers": impact.get("customers"),
        "accounts": impact.get("accounts"),
        "accounts with open orders": impact.get("accountsWithOrders"),
        "open orders (canceled if trading stops)": impact.get("openOrders"),
        "pending withdrawals": impact.get("pendingWithdrawals"),
        "accounts above the holdings condition": impact.get("aboveCondition"),
    }
    out.print(
        f"preview [bold]{escape(preview['previewId'])}[/] as of seq {preview.get('asOfSeq')}: "
        f"[bold]{escape(spec['name'])}[/]\n"
        f"  {escape(spec['basis'].lower())} {escape(spec['country'])}: "
        f"{escape(rules_text(spec, limits))}"
    )
    current = preview.get("current")
    out.print(
        "  replaces: "
        + (escape(f"{current['name']} ({rules_text(current)})") if current else "nothing (open)")
    )
    unpriced = impact.get("unpricedAccounts") or {}
    if unpriced:
        counts["held, no price (accounts)"] = ", ".join(f"{a} ({n})" for a, n in unpriced.items())
    for warning in preview.get("warnings") or ():
        out.print(f"[bold red]cannot apply yet:[/] {escape(warning)}")
    tables: list[Table] = [record_table("whom it names", counts)]
    balances = impact.get("balances") or {}
    if balances:
        tables.append(
            rows_table("what they hold", [{"asset": a, "total": v} for a, v in balances.items()])
        )
    if impact.get("sample"):
        tables.append(rows_table("sample", impact["sample"]))
    show(*tables)
    out.print(
        f"saved to [bold]{escape(str(saved))}[/]: apply exactly this with\n"
        f"  bourse policy apply {escape(str(saved))} --reason '...'\n"
        f"or at a later time with `bourse policy schedule {escape(str(saved))} --at ...`"
    )


def _where(spec: dict[str, Any]) -> str:
    who = "nationals of" if spec["basis"] == Basis.NATIONALITY else "residents of"
    return f"{who} {spec['country']}"


def in_force_lines(p: dict[str, Any]) -> list[str]:
    spec = p["spec"]
    reversible = "; `policy reverse` restores the one it replaced" if p["hasPrevious"] else ""
    return [
        f"change {p['changeId']}  [bold]{escape(spec['name'])}[/] ({escape(_where(spec))})",
        f"    {escape(rules_text(spec))}",
        f"    applied {utc_text(p['appliedMs'])} by {escape(p['actor'])}: "
        f"{escape(p['reason'])}{reversible}",
    ]


def scheduled_lines(s: dict[str, Any]) -> list[str]:
    spec = s["spec"]
    return [
        f"schedule {s['scheduleId']}  at {utc_text(s['effectiveMs'])}  "
        f"[bold]{escape(spec['name'])}[/] ({escape(_where(spec))})",
        f"    {escape(rules_text(spec))}",
        f"    scheduled by {escape(s['actor'])}: {escape(s['reason'])}",
    ]
