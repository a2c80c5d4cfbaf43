"""`bourse partners ...`, on the running server: card schemes and processors, customers' saved
cards, card deposits as the partner notifies and settles them, and a partner's end (previewed,
saved, applied from the saved preview)."""

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from bourse.cli.common import ReasonOpt, TokenOpt, print_json, rows_table, show
from bourse.cli.console import err, out
from bourse.cli.operator import AdminClient, DataDirOpt, JsonOpt, UrlOpt, segment
from bourse.cli.saved_preview import load_preview, save_preview
from bourse.domain.calendar import utc_text

partners_app = typer.Typer(
    help="Card partners, saved cards and card deposits, on the running server.",
    no_args_is_help=True,
)
CodeArg = Annotated[str, typer.Argument(help="The partner's code, like MASTERCARD.")]


def _partner(code: str) -> str:
    """A partner's code as one segment of an admin path."""
    return segment(code, "the partner code")


def _codes(text: str) -> list[str]:
    return [c.strip().upper() for c in text.split(",") if c.strip()]


@partners_app.command("define")
def partners_define(
    code: CodeArg,
    name: Annotated[str, typer.Option(help="The partner's name.")],
    kind: Annotated[str, typer.Option(help="CARD_SCHEME or PROCESSOR.")],
    currencies: Annotated[str, typer.Option(help="Comma-separated fiat assets: EUR,KZT.")],
    serves: Annotated[str, typer.Option(help="Countries of residence it serves: DE,KZ.")],
    reason: ReasonOpt,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Define a card partner (or change one): what it takes and whom it serves."""
    body = {"name": name, "kind": kind, "currencies": _codes(currencies),
            "serves": _codes(serves), "reason": reason}  # fmt: skip
    partner = AdminClient(data_dir, url, token).call(
        "PUT", f"/partners/{_partner(code)}", json=body
    )
    if as_json:
        print_json(partner)
        return
    out.print(f"partner [bold]{escape(partner['code'])}[/] ({escape(partner['name'])}): "
              f"{partner['status']}")  # fmt: skip


@partners_app.command("list")
def partners_list(
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Card partners and their state."""
    partners = AdminClient(data_dir, url, token).call("GET", "/partners")
    if as_json:
        print_json(partners)
        return
    if not partners:
        out.print("no card partners")
        return
    show(rows_table("card partners", partners))


@partners_app.command("save-card")
def partners_save_card(
    customer: Annotated[int, typer.Argument(help="The customer's id.")],
    partner: Annotated[str, typer.Option(help="The partner that tokenized the card.")],
    card_token: Annotated[str, typer.Option("--card-token", help="The partner's card token.")],
    last4: Annotated[str, typer.Option(help="The card number's last four digits.")],
    expiry: Annotated[str, typer.Option(help="MM/YY.")],
    holder: Annotated[str, typer.Option(help="The name on the card (the customer's).")],
    reason: ReasonOpt,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Save a customer's card as its partner tokenized it (never its number)."""
    body = {"partner": partner, "token": card_token, "last4": last4, "expiry": expiry,
            "holder": holder, "reason": reason}  # fmt: skip
    card = AdminClient(data_dir, url, token).call(
        "POST", f"/customers/{segment(customer, 'the customer id')}/cards", json=body
    )
    if as_json:
        print_json(card)
        return
    out.print(f"card [bold]{card['id']}[/]: {card['partner']} ending {card['last4']}, "
              f"expires {card['expiry']}")  # fmt: skip


@partners_app.command("cards")
def partners_cards(
    customer: Annotated[int | None, typer.Option(help="Only this customer's.")] = None,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Saved cards."""
    params = {} if customer is None else {"customer": customer}
    cards = AdminClient(data_dir, url, token).call("GET", "/cards", params=params)
    if as_json:
        print_json(cards)
        return
    if not cards:
        out.print("no saved cards")
        return
    show(rows_table("saved cards", cards))


@partners_app.command("deposit")
def partners_deposit(
    code: CodeArg,
    card: Annotated[int, typer.Option(help="The saved card's id.")],
    amount: Annotated[str, typer.Option(help="The amount, like 250.00.")],
    currency: Annotated[str, typer.Option(help="The fiat currency, like EUR.")],
    ref: Annotated[str, typer.Option(help="The partner's id of the payment.")],
    reason: ReasonOpt,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Record a card deposit the partner notified: pending until settled or reversed."""
    body = {"card_id": card, "currency": currency, "amount": amount, "partner_ref": ref,
            "reason": reason}  # fmt: skip
    made = AdminClient(data_dir, url, token).call(
        "POST", f"/partners/{_partner(code)}/deposits", json=body
    )
    if as_json:
        print_json(made)
        return
    out.print(f"card deposit [bold]{made['id']}[/]: {made['amount']} {made['currency']} "
              f"{made['status']}")  # fmt: skip


@partners_app.command("deposits")
def partners_deposits(
    status: Annotated[str | None, typer.Option(help="PENDING, SETTLED or REVERSED.")] = None,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Card deposits and their state."""
    params = {} if status is None else {"status": status}
    deposits = AdminClient(data_dir, url, token).call("GET", "/card-deposits", params=params)
    if as_json:
        print_json(deposits)
        return
    if not deposits:
        out.print("no card deposits")
        return
    show(rows_table("card deposits", deposits))


@partners_app.command("settle")
def partners_settle(
    deposit: Annotated[int, typer.Argument(help="The card deposit's id.")],
    reason: ReasonOpt,
    reverse: Annotated[bool, typer.Option(help="Reverse it: nothing is credited.")] = False,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Settle (credit) or reverse a pending card deposit, as the partner's report says."""
    body = {"settled": not reverse, "reason": reason}
    done = AdminClient(data_dir, url, token).call(
        "POST", f"/card-deposits/{segment(deposit, 'the deposit id')}/settlement", json=body
    )
    if as_json:
        print_json(done)
        return
    out.print(f"card deposit {done['id']}: {done['status']}"
              + (f" ({escape(done['reason'])})" if done["reason"] else ""))  # fmt: skip


@partners_app.command("end-preview")
def partners_end_preview(
    code: CodeArg,
    at: Annotated[
        str | None, typer.Option("--at", help="When it ends, ISO 8601 (UTC); else now.")
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
    """Show whom and what a partner's end would touch, and save the preview."""
    client = AdminClient(data_dir, url, token)
    path = f"/partners/{_partner(code)}/end/preview"
    preview = client.call("POST", path, json={"effective": at or ""})
    saved = save_preview(preview, save, data_dir, f"partner-end-{preview['partner']}")
    if as_json:
        print_json(preview)
        err.print(f"saved to {escape(str(saved))}")
        return
    when = utc_text(preview["effectiveMs"]) if preview["effectiveMs"] else "at once"
    out.print(f"end of [bold]{escape(preview['name'])}[/] ({preview['partner']}), {when}")
    out.print(f"  customers with a saved card of it: {preview['customers']} "
              f"({preview['cards']} cards)")  # fmt: skip
    for currency, amount in preview["byCurrency"].items():
        out.print(f"  pending card deposits: {amount} {currency} (they still settle or reverse)")
    out.print(
        f"preview [bold]{preview['previewId']}[/] saved to {escape(str(saved))}: apply it with "
        f"`bourse partners end {escape(str(saved))} --reason ...`"
    )


@partners_app.command("end")
def partners_end(
    file: Annotated[
        Path, typer.Argument(help="A preview saved by `partners end-preview`.", dir_okay=False)
    ],
    reason: ReasonOpt,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """End a card partner exactly as its saved preview showed (four eyes by default)."""
    saved = load_preview(file, "bourse partners end-preview", spec_fields=("partner",))
    body = {**saved, "reason": reason}
    done = AdminClient(data_dir, url, token).call(
        "POST",
        f"/partners/{_partner(body['spec']['partner'])}/end",
        json=body,
        then="`bourse partners ends` shows it",
    )
    if as_json:
        print_json(done)
        return
    _show_end(done)


def _show_end(e: dict[str, Any]) -> None:
    verb = "ended" if e["status"] == "APPLIED" else "ends"
    out.print(f"end {e['id']}: {e['partner']} {verb} at {utc_text(e['effectiveMs'])}; "
              f"{len(e['pending'])} card deposit(s) were pending then")  # fmt: skip
    if e["pending"]:
        show(rows_table("pending at its end, and what became of each", e["pending"]))


@partners_app.command("ends")
def partners_ends(
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Card partners' ends, scheduled and applied."""
    ends = AdminClient(data_dir, url, token).call("GET", "/partner-ends")
    if as_json:
        print_json(ends)
        return
    if not ends:
        out.print("no card partner has ended")
    for e in ends:
        _show_end(e)
