"""`bourse banks ...` and `bourse statements ...`, on the running server: partner banks,
customers' own bank accounts, bank statements and the reconciliation queue."""

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from bourse.cli.common import ReasonOpt, TokenOpt, print_json, rows_table, show
from bourse.cli.console import fail, out
from bourse.cli.operator import AdminClient, DataDirOpt, JsonOpt, UrlOpt, code_pairs, segment

banks_app = typer.Typer(
    help="Partner banks and customers' bank accounts, on the running server.",
    no_args_is_help=True,
)
statements_app = typer.Typer(
    help="Bank statements and the reconciliation queue, on the running server.",
    no_args_is_help=True,
)
ListOpt = Annotated[str, typer.Option(help="Comma-separated, like EUR,USD or DE,AT.")]


def bic_segment(bic: str) -> str:
    """A partner bank's BIC as one segment of an admin path."""
    return segment(bic.strip(), "the BIC")


def _codes(text: str) -> list[str]:
    return [c.strip().upper() for c in text.split(",") if c.strip()]


@banks_app.command("define")
def banks_define(
    bic: Annotated[str, typer.Argument(help="The bank's BIC (ISO 9362).")],
    name: Annotated[str, typer.Option(help="The bank's name.")],
    country: Annotated[str, typer.Option(help="The bank's country, ISO 3166-1 alpha-2.")],
    currencies: ListOpt,
    serves: Annotated[str, typer.Option(help="Countries of residence it serves: DE,AT.")],
    reason: ReasonOpt,
    account: Annotated[
        list[str] | None,
        typer.Option(help="The exchange's account at it: CURRENCY=IBAN (repeat per currency)."),
    ] = None,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Define a partner bank (or change one): what it pays and whom it serves."""
    path = f"/banks/{bic_segment(bic)}"
    accounts = code_pairs(account or [], "--account", "CURRENCY=IBAN (like EUR=DE89...)")
    body = {
        "name": name,
        "country": country.strip().upper(),
        "currencies": _codes(currencies),
        "serves": _codes(serves),
        "accounts": accounts,
        "reason": reason,
    }
    bank = AdminClient(data_dir, url, token).call("PUT", path, json=body)
    if as_json:
        print_json(bank)
        return
    out.print(f"bank [bold]{escape(bank['bic'])}[/] ({escape(bank['name'])}): {bank['status']}")


@banks_app.command("list")
def banks_list(
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Partner banks, what they pay, whom they serve and their state."""
    banks = AdminClient(data_dir, url, token).call("GET", "/banks")
    if as_json:
        print_json(banks)
        return
    if not banks:
        out.print("no partner banks")
        return
    show(rows_table("partner banks", banks))


def _suspension(bic: str, suspended: bool, reason: str, as_json: bool, client: AdminClient) -> None:
    body = {"suspended": suspended, "reason": reason}
    bank = client.call("PUT", f"/banks/{bic_segment(bic)}/suspension", json=body)
    if as_json:
        print_json(bank)
        return
    out.print(f"bank [bold]{escape(bank['bic'])}[/] ({escape(bank['name'])}): {bank['status']}")


@banks_app.command("suspend")
def banks_suspend(
    bic: Annotated[str, typer.Argument(help="The partner bank's BIC.")],
    reason: ReasonOpt,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Stop every transfer through a partner bank for now (`banks resume` ends it)."""
    _suspension(bic, True, reason, as_json, AdminClient(data_dir, url, token))


@banks_app.command("resume")
def banks_resume(
    bic: Annotated[str, typer.Argument(help="The partner bank's BIC.")],
    reason: ReasonOpt,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Resume transfers through a suspended partner bank."""
    _suspension(bic, False, reason, as_json, AdminClient(data_dir, url, token))


@banks_app.command("add-account")
def banks_add_account(
    customer: Annotated[int, typer.Argument(help="The customer's id.")],
    iban: Annotated[str, typer.Argument(help="The customer's IBAN.")],
    holder: Annotated[str, typer.Option(help="The holder's name, as the bank knows them.")],
    reason: ReasonOpt,
    bic: Annotated[str, typer.Option(help="The bank's BIC, if not the IBAN's.")] = "",
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Add a customer's own bank account, screened by holder name and BIC before first use."""
    body = {"iban": iban, "holder": holder, "bic": bic, "reason": reason}
    added = AdminClient(data_dir, url, token).call(
        "POST", f"/customers/{segment(customer, 'the customer id')}/bank-accounts", json=body
    )
    if as_json:
        print_json(added)
        return
    out.print(f"bank account [bold]{added['id']}[/] ({added['iban']}): {added['status']}")
    for hit in added.get("hits", []):
        out.print(f"[bold yellow]held by a screening hit:[/] {escape(hit)}")


@banks_app.command("accounts")
def banks_accounts(
    customer: Annotated[int | None, typer.Option(help="Only this customer's.")] = None,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Customers' bank accounts and their screening status."""
    params = {} if customer is None else {"customer": customer}
    found = AdminClient(data_dir, url, token).call("GET", "/bank-accounts", params=params)
    if as_json:
        print_json(found)
        return
    if not found:
        out.print("no bank accounts")
        return
    show(rows_table("bank accounts", found))


@statements_app.command("import")
def statements_import(
    file: Annotated[Path, typer.Argument(help="A camt.053 (XML) or MT940 file.")],
    reason: ReasonOpt,
    bank: Annotated[str, typer.Option(help="The bank's BIC, if not found by account.")] = "",
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Import a partner bank's statement: matched lines are credited, the rest queued."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    params = {"reason": reason, **({"bank": bank} if bank else {})}
    done = AdminClient(data_dir, url, token).call(
        "POST", "/statements", content=data, params=params, timeout=300
    )
    if as_json:
        print_json(done)
        return
    out.print(
        f"statement {escape(done['statementId'])} ({done['format']}, {done['bank']}): "
        f"{done['lines']} line{'' if done['lines'] == 1 else 's'}, "
        f"[bold]{done['credited']}[/] credited, "
        f"[bold]{done['queued']}[/] queued, {done['alreadyBooked']} booked before"
    )
    for item in done["queue"]:
        out.print(f"  queued {item['id']} ({escape(item['bankRef'])}): {escape(item['reason'])}")


@statements_app.command("queue")
def statements_queue(
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Statement lines no rule could credit, each with its reason."""
    found = AdminClient(data_dir, url, token).call("GET", "/statements/queue")
    if as_json:
        print_json(found)
        return
    if not found:
        out.print("the reconciliation queue is empty")
        return
    listed = ("id", "bank", "bankRef", "amount", "currency", "sender", "reason", "customerId")
    show(rows_table("reconciliation queue", [{k: i[k] for k in listed} for i in found]))


@statements_app.command("resolve")
def statements_resolve(
    item: Annotated[int, typer.Argument(help="The queued line's id.")],
    reason: ReasonOpt,
    account: Annotated[
        int, typer.Option(help="Credit it to this account (0: close it uncredited).")
    ] = 0,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Take a line off the queue: credit it to an account, or close it uncredited."""
    body: dict[str, Any] = {"account_id": account, "reason": reason}
    done = AdminClient(data_dir, url, token).call(
        "POST",
        f"/statements/queue/{segment(item, 'the line id')}/resolve",
        json=body,
        then="the line is resolved",
    )
    if as_json:
        print_json(done)
        return
    where = f"credited to account {account}" if account else "closed without crediting"
    out.print(f"statement line {item} {where}")


@banks_app.command("pay")
def banks_pay(
    bic: Annotated[str, typer.Argument(help="The partner bank's BIC.")],
    currency: Annotated[str, typer.Option(help="The fiat currency, like EUR.")],
    date: Annotated[str, typer.Option("--date", help="The execution date, YYYY-MM-DD.")],
    reason: ReasonOpt,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Send the pending fiat withdrawals the bank may pay as one payment file."""
    body = {"bank": bic, "currency": currency, "execution_date": date, "reason": reason}
    made = AdminClient(data_dir, url, token).call("POST", "/payment-files", json=body)
    if as_json:
        print_json(made)
        return
    out.print(
        f"payment file [bold]{made['id']}[/] to {made['bank']}: {len(made['payouts'])} "
        f"payout(s), {made['total']} {made['currency']} on {made['executionDate']}"
    )
    for held in made["withheld"]:
        out.print(f"  withdrawal {held['withdrawalId']} stays pending: {escape(held['reason'])}")


@banks_app.command("files")
def banks_files(
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Payment files, newest first, and what became of each payout."""
    files = AdminClient(data_dir, url, token).call("GET", "/payment-files")
    if as_json:
        print_json(files)
        return
    if not files:
        out.print("no payment files")
        return
    rows = [
        {"file": f["id"], "bank": f["bank"], "date": f["executionDate"], **p}
        for f in files
        for p in f["payouts"]
    ]
    show(rows_table("payouts", rows))


@banks_app.command("pain001")
def banks_pain001(
    file_id: Annotated[int, typer.Argument(help="The payment file's id.")],
    to: Annotated[
        Path, typer.Argument(help="The file to write the XML to; - writes it to stdout.")
    ],
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Write a payment file as ISO 20022 pain.001, the XML the bank takes, to TO (to stdout given
    -)."""
    stdout = str(to) == "-"
    if not stdout and (not str(to).strip() or to.is_dir()):
        fail(f"{str(to) or repr('')} is not a file to write: give a file path (or - for stdout)")
    client = AdminClient(data_dir, url, token)
    xml = client.download(f"/payment-files/{segment(file_id, 'the file id')}/pain.001")
    if stdout:
        sys.stdout.buffer.write(xml)
        sys.stdout.buffer.flush()
        return
    try:
        to.write_bytes(xml)
    except OSError as exc:
        fail(f"cannot write {to}: {exc.strerror}")
    out.print(f"wrote {escape(str(to))} ({len(xml)} bytes)")
