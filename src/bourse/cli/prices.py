"""`bourse prices set|list`: reference prices, which value an asset in a policy's holdings
condition where no traded market does (on the running server)."""

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from bourse.cli.common import ReasonOpt, TokenOpt, print_json, rows_table, show
from bourse.cli.console import out
from bourse.cli.operator import AdminClient, DataDirOpt, JsonOpt, UrlOpt, segment
from bourse.domain.calendar import utc_text

prices_app = typer.Typer(
    help="Reference prices for holdings conditions, on the running server.",
    no_args_is_help=True,
)


@prices_app.command("set")
def prices_set(
    asset: Annotated[str, typer.Argument(help="The asset to price, like BTC.")],
    quote: Annotated[str, typer.Argument(help="The asset the price is in, like EUR.")],
    price: Annotated[str, typer.Argument(help="One whole ASSET in QUOTE, like 55000.")],
    reason: ReasonOpt,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Set the price holdings conditions value ASSET at where no traded market prices it."""
    asset, quote = asset.strip().upper(), quote.strip().upper()
    result = AdminClient(data_dir, url, token).call(
        "PUT",
        f"/reference-prices/{segment(asset, 'the asset')}/{segment(quote, 'the quote asset')}",
        json={"price": price, "reason": reason},
    )
    if as_json:
        print_json(result)
        return
    was = f" (was {result['previous']})" if result.get("previous") else ""
    note = "; a traded market prices this pair, so its trade price counts first"
    out.print(
        f"reference price of {escape(asset)}: {escape(result['price'])} {escape(quote)}{was}"
        + (note if result.get("tradedPrice") else "")
    )


@prices_app.command("list")
def prices_list(
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """The reference prices, and whether a traded market now prices each pair."""
    found = AdminClient(data_dir, url, token).call("GET", "/reference-prices")
    if as_json:
        print_json(found)
        return
    if not found:
        out.print("no reference prices: holdings conditions use the exchange's trade prices")
        return
    rows = [
        {k: v for k, v in p.items() if k != "setMs"} | {"set": utc_text(p["setMs"])} for p in found
    ]
    show(rows_table("reference prices", rows))
