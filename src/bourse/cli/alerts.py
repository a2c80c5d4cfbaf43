"""`bourse alerts ...`: screening alerts for review, on the running server.

`list` shows them (open ones by default), `confirm ID` freezes the customer's accounts citing the
evidence, `dismiss ID` records a false positive (raised again only if the listed entry changes),
and `rescreen` screens every customer against the lists in force.
"""

from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from bourse.cli.common import ReasonOpt, TokenOpt, print_json, show
from bourse.cli.console import fail, out
from bourse.cli.operator import AdminClient, DataDirOpt, JsonOpt, UrlOpt, segment

alerts_app = typer.Typer(
    help="Sanctions screening alerts (list, confirm, dismiss, rescreen), on the running server.",
    no_args_is_help=True,
)

IdArg = Annotated[int, typer.Argument(help="The alert's id (see `bourse alerts list`).")]
STATUSES = ("open", "confirmed", "dismissed", "all")


def alerts_table(title: str, alerts: list[dict[str, Any]]) -> Table:
    """Alerts readable at 80 columns: five columns, the short facts (id, score, status and kind)
    never wrapped, and the listed entry, its list version, when it was raised and why in one
    cell of several lines that wraps at word boundaries."""
    table = Table(
        title=title, title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1), expand=True
    )
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("score", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("customer", ratio=2, min_width=14, overflow="fold")
    table.add_column("listed entry · raised · why", ratio=5, overflow="fold")
    for alert in alerts:
        ev = alert["evidence"]
        kind = alert["kind"] + (f"\nw{alert['withdrawalId']}" if alert["withdrawalId"] else "")
        entry = Text(f"{ev['source']} {ev['entryId']} {ev['listedName']}")
        entry.append(f"\nlist {ev['listSha256'][:12]} · {alert['raised']}", style="dim")
        entry.append(f"\n{ev['explanation']}")
        table.add_row(
            str(alert["alertId"]),
            alert["score"],
            f"{alert['status']}\n{kind}",
            Text(f"{alert['customerId']} {alert['customerName']}"),
            entry,
        )
    return table


@alerts_app.command("list")
def alerts_list(
    status: Annotated[
        str, typer.Option("--status", help="open, confirmed, dismissed or all.")
    ] = "open",
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """The screening alerts with the given status, in the order raised."""
    status = status.strip().lower()
    if status not in STATUSES:
        fail(f"--status {status!r} is not one of {', '.join(STATUSES)}")
    params: dict[str, Any] = {} if status == "all" else {"status": status}
    client = AdminClient(data_dir, url, token)
    found: list[dict[str, Any]] = []
    while True:  # every page
        page = client.call("GET", "/alerts", params=params)
        found += page["alerts"]
        if not page["nextFromId"]:
            break
        params["fromId"] = page["nextFromId"]
    if as_json:
        print_json(found)
    elif not found:
        out.print(f"no {escape(status)} alerts" if status != "all" else "no alerts")
    else:
        show(alerts_table(f"{status} alerts", found))


@alerts_app.command("confirm")
def alerts_confirm(
    alert_id: IdArg,
    reason: ReasonOpt,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """The hit is the customer: freeze every account of theirs, citing the evidence (a payee
    review: the withdrawal fails; a delisting review: the freeze is lifted)."""
    done = AdminClient(data_dir, url, token).call(
        "POST", f"/alerts/{segment(alert_id, 'the alert id')}/confirm", json={"reason": reason}
    )
    if as_json:
        print_json(done)
        return
    out.print(escape(confirmed_text(alert_id, done)))


def _ids(ids: list[int]) -> str:
    return ", ".join(str(i) for i in ids) or "none"


def confirmed_text(alert_id: int, done: dict[str, Any]) -> str:
    """What a confirmation did, in words: what it froze, unfroze or failed, or which listings
    keep the accounts frozen."""
    if done["withdrawalsFailed"]:
        failed = _ids(done["withdrawalsFailed"])
        return f"alert {alert_id} confirmed; withdrawal(s) {failed} failed, the money stays"
    if done.get("standing"):
        listed = "; ".join(
            f"alert {s['alertId']}: {s['source']} entry {s['entryId']} ({s['listedName']})"
            for s in done["standing"]
        )
        return (
            f"alert {alert_id} confirmed; accounts {_ids(done['keptFrozen'])} stay frozen: "
            f"still listed by {listed}"
        )
    if done.get("kind") == "delisting":
        text = f"alert {alert_id} confirmed; accounts unfrozen: {_ids(done['unfrozen'])}"
        for kept in done.get("frozenByStaff", []):
            text += f"; account {kept['accountId']} stays frozen by staff: {kept['reason']}"
        return text
    return f"alert {alert_id} confirmed; accounts frozen: {_ids(done['frozen'])}"


@alerts_app.command("dismiss")
def alerts_dismiss(
    alert_id: IdArg,
    reason: ReasonOpt,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """A false positive: not raised again for this customer unless the listed entry changes."""
    done = AdminClient(data_dir, url, token).call(
        "POST", f"/alerts/{segment(alert_id, 'the alert id')}/dismiss", json={"reason": reason}
    )
    if as_json:
        print_json(done)
        return
    out.print(f"alert {alert_id} dismissed")


@alerts_app.command("rescreen")
def alerts_rescreen(
    full: Annotated[
        bool,
        typer.Option("--full", help="Against the whole index, even where only entries changed."),
    ] = False,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Screen every customer against the sanctions lists in force; raise alerts for new hits.
    Only the entries new list versions add or change are screened where that is equivalent."""
    report = AdminClient(data_dir, url, token).call(
        "POST", "/screening/rescreen", params={"full": str(full).lower()}, timeout=600
    )
    if as_json:
        print_json(report)
        return
    lists = ", ".join(f"{v['source']} {v['published']} {v['sha256'][:12]}" for v in report["lists"])
    raised, reviews = report["alertsRaised"], report["delistingReviews"]
    out.print(
        f"screened {report['screened']} customers against {escape(lists)} "
        f"({_against(report)}): {len(raised)} alert(s) raised"
        + (f" ({', '.join(map(str, raised))})" if raised else "")
    )
    if reviews:
        out.print(
            f"{len(reviews)} delisting review(s) ({', '.join(map(str, reviews))}): an entry a "
            "freeze rests on left the list; confirm to unfreeze, dismiss to keep the freeze"
        )


def _against(report: dict[str, Any]) -> str:
    entries = report["entriesScreened"]
    if report["mode"] == "incremental":
        return f"incremental: the {entries} entries added or changed"
    if report["mode"] == "unchanged":
        return "nothing changed since the last rescreen"
    return f"full: all {entries} entries"
