"""`bourse banks cut-off-preview | cut-off | cut-offs | cut-off-report`: a partner bank's cut-off,
previewed and saved, applied from the saved preview (four eyes by default), and its report."""

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from bourse.cli.banks import banks_app, bic_segment
from bourse.cli.common import ReasonOpt, TokenOpt, print_json, rows_table, show
from bourse.cli.console import err, out
from bourse.cli.operator import AdminClient, DataDirOpt, JsonOpt, UrlOpt, segment
from bourse.cli.saved_preview import load_preview, save_preview
from bourse.domain.calendar import utc_text


class CauseOpt(StrEnum):
    sanctioned = "sanctioned"
    swift_disconnected = "swift-disconnected"
    relationship_ended = "relationship-ended"


class OutgoingOpt(StrEnum):
    return_ = "return"
    reroute = "reroute"


def show_cutoff_preview(preview: dict[str, Any], saved: Path) -> None:
    when = utc_text(preview["effectiveMs"]) if preview["effectiveMs"] else "at once"
    out.print(
        f"cut-off of [bold]{escape(preview['name'])}[/] ({preview['bank']}), "
        f"{escape(preview['causeText'])}, {when}; payouts in its files: "
        f"{preview['outgoing'].lower()}"
    )
    out.print(
        f"  customers with an account there: {preview['customers']}; it is the only fiat rail "
        f"for {preview['onlyRail']}, of whom {preview['movable']} could move to another bank"
    )
    for currency, fates in preview["byCurrency"].items():
        parts = ", ".join(f"{amount} {fate.lower()}" for fate, amount in fates.items())
        out.print(f"  {currency}: {parts}")
    if preview["transfers"]:
        show(rows_table("pending transfers through it, and what becomes of each",
                        preview["transfers"]))  # fmt: skip
    else:
        out.print("  no transfer is pending through it")
    out.print(
        f"preview [bold]{preview['previewId']}[/] saved to {escape(str(saved))}: apply it with "
        f"`bourse banks cut-off {escape(str(saved))} --reason ...`"
    )


@banks_app.command("cut-off-preview")
def cutoff_preview(
    bic: Annotated[str, typer.Argument(help="The partner bank's BIC.")],
    cause: Annotated[CauseOpt, typer.Option(help="Why it is cut off.")],
    outgoing: Annotated[
        OutgoingOpt,
        typer.Option(
            help="Payouts already sent in its files: return them to the customers' balances, "
            "or reroute them to another bank that serves the customer."
        ),
    ] = OutgoingOpt.return_,
    at: Annotated[
        str | None, typer.Option("--at", help="When it takes effect, ISO 8601 (UTC); else now.")
    ] = None,
    save: Annotated[
        Path | None,
        typer.Option(
            help="Where to save the preview (default: DATA_DIR/previews/).", dir_okay=False
        ),
    ] = None,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Show whom and what cutting a partner bank off would touch, and save the preview."""
    body = {
        "cause": cause.value.upper().replace("-", "_"),
        "outgoing": outgoing.value.upper(),
        "effective": at or "",
    }
    client = AdminClient(data_dir, url, token)
    preview = client.call("POST", f"/banks/{bic_segment(bic)}/cut-off/preview", json=body)
    saved = save_preview(preview, save, data_dir, f"cut-off-{preview['bank']}")
    if as_json:
        print_json(preview)
        err.print(f"saved to {escape(str(saved))}")
        return
    show_cutoff_preview(preview, saved)


@banks_app.command("cut-off")
def cutoff_apply(
    file: Annotated[
        Path, typer.Argument(help="A preview saved by `banks cut-off-preview`.", dir_okay=False)
    ],
    reason: ReasonOpt,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Cut a partner bank off, exactly as its saved preview showed (four eyes by default)."""
    saved = load_preview(file, "bourse banks cut-off-preview", spec_fields=("bic",))
    body = {**saved, "reason": reason}
    done = AdminClient(data_dir, url, token).call(
        "POST",
        f"/banks/{bic_segment(body['spec']['bic'])}/cut-off",
        json=body,
        then="`bourse banks cut-offs` shows it",
    )
    if as_json:
        print_json(done)
        return
    show_cutoff(done)


def show_cutoff(c: dict[str, Any]) -> None:
    if c["status"] != "APPLIED":
        out.print(
            f"cut-off {c['id']} of {escape(c['name'])} ({c['bank']}) scheduled for "
            f"{utc_text(c['effectiveMs'])}"
        )
        return
    out.print(
        f"cut-off {c['id']}: {escape(c['name'])} ({c['bank']}) is cut off since "
        f"{utc_text(c['effectiveMs'])}; {len(c['report'])} transfer(s) reported"
    )
    if c["report"]:
        show(rows_table("where each pending transfer's money went", c["report"]))


@banks_app.command("cut-offs")
def cutoff_list(
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Bank cut-offs, scheduled and applied."""
    cutoffs = AdminClient(data_dir, url, token).call("GET", "/cut-offs")
    if as_json:
        print_json(cutoffs)
        return
    if not cutoffs:
        out.print("no bank has been cut off")
        return
    rows = [{k: v for k, v in c.items() if k != "report"} | {"transfers": len(c["report"])}
            for c in cutoffs]  # fmt: skip
    show(rows_table("bank cut-offs", rows))


@banks_app.command("cut-off-report")
def cutoff_report(
    cutoff_id: Annotated[int, typer.Argument(help="The cut-off's id (`banks cut-offs`).")],
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """A cut-off's report: every transfer it found pending and where its money went."""
    found = AdminClient(data_dir, url, token).call(
        "GET", f"/cut-offs/{segment(cutoff_id, 'the cut-off id')}"
    )
    if as_json:
        print_json(found)
        return
    show_cutoff(found)
