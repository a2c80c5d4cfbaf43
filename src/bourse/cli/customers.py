"""`bourse customers ...`, `bourse venues ...` and `bourse withdraw-on-request`, on the running
server: every change is an engine command that carries the actor and the reason."""

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from bourse.cli.common import (
    ReasonOpt,
    TokenOpt,
    print_json,
    record_table,
    rows_table,
    show,
)
from bourse.cli.console import fail, out
from bourse.cli.operator import AdminClient, DataDirOpt, JsonOpt, UrlOpt, segment
from bourse.compliance.customers import RiskTier

customers_app = typer.Typer(
    help="Customers (KYC records), on the running server.", no_args_is_help=True
)
venues_app = typer.Typer(help="Regional venues, on the running server.", no_args_is_help=True)

CountryOpt = Annotated[str | None, typer.Option(help="An ISO 3166-1 alpha-2 code, like KZ.")]
KycOpt = Annotated[
    int | None, typer.Option("--kyc-level", help="0 none, 1 identity, 2 address, 3 enhanced.")
]
RiskOpt = Annotated[
    RiskTier | None, typer.Option("--risk-tier", case_sensitive=False, help="The risk tier.")
]
CustomerArg = Annotated[int, typer.Argument(help="The customer's id.")]


def _country(code: str | None) -> str | None:
    return code.strip().upper() if code is not None else None


def _customer_path(customer: int, *rest: str) -> str:
    return "/".join(["/customers", segment(customer, "the customer id"), *rest])


@customers_app.command("onboard")
def customers_onboard(
    name: Annotated[str, typer.Option("--name", help="The legal name.")],
    born: Annotated[str, typer.Option("--born", help="The date of birth, YYYY-MM-DD.")],
    nationality: Annotated[str, typer.Option(help="An ISO 3166-1 alpha-2 code, like KZ.")],
    residence: Annotated[str, typer.Option(help="An ISO 3166-1 alpha-2 code, like KZ.")],
    reason: ReasonOpt,
    kyc_level: KycOpt = None,
    risk_tier: RiskOpt = None,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Record a customer and open their first account, at the venue serving their residence."""
    body: dict[str, Any] = {
        "legal_name": name,
        "date_of_birth": born,
        "nationality": _country(nationality),
        "residence": _country(residence),
        "reason": reason,
    }
    if kyc_level is not None:
        body["kyc_level"] = kyc_level
    if risk_tier is not None:
        body["risk_tier"] = risk_tier.value
    made = AdminClient(data_dir, url, token).call("POST", "/customers", json=body)
    if as_json:
        print_json(made)
        return
    out.print(
        f"onboarded customer [bold]{made['customerId']}[/] with account "
        f"[bold]{made['accountId']}[/] at venue {escape(str(made.get('venue') or '-'))}"
    )
    alerts = made.get("screening", {}).get("alerts", [])
    if alerts:
        ids = ", ".join(str(a) for a in alerts)
        out.print(
            f"[bold yellow]screening:[/] alert(s) {ids} raised for review (bourse alerts list)"
        )
        if made["screening"].get("held"):
            out.print(
                f"[bold yellow]held:[/] no deposit, trade or withdrawal until alert(s) {ids} "
                "are decided (confirm freezes, dismiss releases)"
            )


@customers_app.command("list")
def customers_list(
    residence: CountryOpt = None,
    nationality: CountryOpt = None,
    venue: Annotated[str | None, typer.Option(help="Only this venue's customers.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 100,
    after: Annotated[int, typer.Option(help="Only customers with a higher id (paging).")] = 0,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Customers, by id, filtered by residence, nationality or venue."""
    params: dict[str, Any] = {"limit": limit, "after": after}
    for key, value in (
        ("residence", _country(residence)),
        ("nationality", _country(nationality)),
        ("venue", venue),
    ):
        if value:
            params[key] = value
    found = AdminClient(data_dir, url, token).call("GET", "/customers", params=params)
    if as_json:
        print_json(found)
        return
    rows = found["customers"]
    if not rows:
        out.print("no customers match")
        return
    listed = ("customerId", "legalName", "nationality", "residence", "venue", "accounts")
    show(rows_table("customers", [{k: c[k] for k in listed} for c in rows]))
    if found.get("next"):
        out.print(f"more: --after {found['next']}")


@customers_app.command("show")
def customers_show(
    customer: CustomerArg,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """One customer's record and their accounts' balances."""
    record = AdminClient(data_dir, url, token).call("GET", _customer_path(customer))
    if as_json:
        print_json(record)
        return
    accounts = record.get("accounts") or []
    fields = {k: v for k, v in record.items() if k != "accounts"}
    show(record_table(f"customer {customer}", fields))
    if accounts:
        show(
            rows_table(
                "accounts", [{k: v for k, v in a.items() if k != "balances"} for a in accounts]
            )
        )
    balances = [{"account": a["accountId"], **b} for a in accounts for b in a["balances"]]
    if balances:
        show(rows_table("balances", balances))


@customers_app.command("update")
def customers_update(
    customer: CustomerArg,
    reason: ReasonOpt,
    name: Annotated[str | None, typer.Option("--name", help="A new legal name.")] = None,
    nationality: CountryOpt = None,
    residence: CountryOpt = None,
    kyc_level: KycOpt = None,
    risk_tier: RiskOpt = None,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Change a customer's record (a new residence may move them to another venue)."""
    for option, given in (("--name", name), ("--nationality", nationality),
                          ("--residence", residence)):  # fmt: skip
        if given is not None and not given.strip():  # not "already says that": it says nothing
            fail(f"{option} must not be empty")
    changes: dict[str, Any] = {
        k: v
        for k, v in (
            ("legal_name", name),
            ("nationality", _country(nationality)),
            ("residence", _country(residence)),
            ("kyc_level", kyc_level),
            ("risk_tier", risk_tier.value if risk_tier is not None else None),
        )
        if v is not None
    }
    if not changes:
        fail(
            "nothing to change: pass --name, --nationality, --residence, --kyc-level or --risk-tier"
        )
    body = {**changes, "reason": reason}
    updated = AdminClient(data_dir, url, token).call("PATCH", _customer_path(customer), json=body)
    if as_json:
        print_json(updated)
        return
    out.print(f"updated customer {customer}: {escape(', '.join(sorted(changes)))}")


@customers_app.command("open-account")
def customers_open_account(
    customer: CustomerArg,
    reason: ReasonOpt,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Open another account for a customer."""
    opened = AdminClient(data_dir, url, token).call(
        "POST", _customer_path(customer, "accounts"), json={"reason": reason}
    )
    if as_json:
        print_json(opened)
        return
    out.print(f"opened account [bold]{opened['accountId']}[/] for customer {customer}")


@venues_app.command("list")
def venues_list(
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """The venues, the jurisdictions each serves and the symbols each lists."""
    venues = AdminClient(data_dir, url, token).call("GET", "/venues")
    if as_json:
        print_json(venues)
        return
    if not venues:
        out.print("no venues defined")
        return
    show(rows_table("venues", venues))


@venues_app.command("define")
def venues_define(
    code: Annotated[str, typer.Argument(help="The venue's code, like KZ1.")],
    name: Annotated[str, typer.Option("--name", help="The regulated entity's name.")],
    reason: ReasonOpt,
    jurisdiction: Annotated[
        list[str] | None,
        typer.Option("--jurisdiction", help="A country it serves (repeatable; none: the rest)."),
    ] = None,
    symbol: Annotated[
        list[str] | None, typer.Option("--symbol", help="A symbol it lists (repeatable).")
    ] = None,
    fee_tier: Annotated[int, typer.Option("--fee-tier", help="Its customers' fee tier.")] = 0,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Define a venue, or replace its definition."""
    body = {
        "name": name,
        "jurisdictions": [c.strip().upper() for c in jurisdiction or []],
        "symbols": [s.strip().upper() for s in symbol or []],
        "fee_tier": fee_tier,
        "reason": reason,
    }
    defined = AdminClient(data_dir, url, token).call(
        "PUT", f"/venues/{segment(code, 'the venue code')}", json=body
    )
    if as_json:
        print_json(defined)
        return
    out.print(f"defined venue [bold]{escape(code)}[/] ({escape(name)})")


def withdraw_on_request(
    account: Annotated[int, typer.Option("--account", help="The account to pay out of.")],
    asset: Annotated[str, typer.Option("--asset", help="The asset, like USDT.")],
    amount: Annotated[str, typer.Option("--amount", help="A decimal amount, like 250.5.")],
    destination: Annotated[
        str,
        typer.Option(
            "--destination",
            help="Where the funds go: an address on the asset's network, or an IBAN.",
        ),
    ],
    request_ref: Annotated[
        str, typer.Option("--request-ref", help="The customer's request it answers.")
    ],
    reason: ReasonOpt,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Pay a customer out of a closed jurisdiction, on their documented request."""
    body: dict[str, Any] = {
        "account_id": account,
        "asset": asset.strip().upper(),
        "amount": amount.strip(),
        "destination": destination,
        "request_ref": request_ref,
        "reason": reason,
    }
    paid = AdminClient(data_dir, url, token).call("POST", "/withdrawals/on-request", json=body)
    if as_json:
        print_json(paid)
        return
    out.print(
        f"withdrawal {paid.get('withdrawalId')} of {escape(amount)} {escape(body['asset'])} "
        f"from account {account} requested (ref {escape(request_ref)}); the amount is held "
        "until the payment is sent and completed with a CompleteWithdrawal command"
    )
