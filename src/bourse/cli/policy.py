"""`bourse policy ...`: jurisdiction policies, always previewed before they apply.

`preview` shows whom a change would touch and saves the preview's `apply` object to a file;
`apply FILE` (or `schedule FILE --at ...`) sends exactly that object, so what applies is what was
shown: the server refuses it if the file was edited or if the people it names changed since.
"""

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
from bourse.cli.console import err, fail, out
from bourse.cli.operator import AdminClient, DataDirOpt, JsonOpt, UrlOpt, segment
from bourse.cli.policy_text import (
    Limits,
    in_force_lines,
    rules_text,
    scheduled_lines,
    show_preview,
)
from bourse.cli.saved_preview import load_preview, save_preview
from bourse.compliance.countries import country_problem
from bourse.compliance.policy import Access, Basis, Capability
from bourse.domain.calendar import utc_text

policy_app = typer.Typer(
    help="Jurisdiction policies (preview, then apply), on the running server.",
    no_args_is_help=True,
)

CountryArg = Annotated[str, typer.Argument(help="An ISO 3166-1 alpha-2 code, like RU.")]
NationalityOpt = Annotated[
    bool,
    typer.Option("--nationality", help="Name the country's nationals (default: its residents)."),
]
SaveOpt = Annotated[
    Path | None,
    typer.Option(
        "--save",
        help="Where to save the preview for `policy apply` (default: DATA_DIR/previews/).",
        dir_okay=False,
    ),
]
FileArg = Annotated[
    Path,
    typer.Argument(help="A preview saved by `policy preview` or `policy reverse`.", dir_okay=False),
]


def _access_opt(flag: str) -> Any:
    what = flag[2:].replace("-", " ")
    return typer.Option(flag, case_sensitive=False, help=f"What {what} becomes.")


def _basis(nationality: bool) -> Basis:
    return Basis.NATIONALITY if nationality else Basis.RESIDENCE


def _holdings_condition(text: str | None, exclude: list[str]) -> dict[str, Any] | None:
    if text is None:
        if exclude:
            fail("--exclude leaves an asset out of --if-holdings-above: give that too")
        return None
    parts = text.split()
    if len(parts) != 2:
        fail(f'--if-holdings-above takes "AMOUNT ASSET" (like "10000 EUR"), not {text!r}')
    condition: dict[str, Any] = {"asset": parts[1].upper(), "limit": parts[0]}
    if exclude:
        condition["excluded"] = [_exclusion(text) for text in exclude]
    return condition


def _exclusion(text: str) -> dict[str, str]:
    asset, _, reason = text.partition(":")
    if not asset.strip() or not reason.strip():
        fail(
            f'--exclude takes "ASSET: why" (like "XYZ: no market; counsel\'s note 7"), not {text!r}'
        )
    return {"asset": asset.strip().upper(), "reason": reason.strip()}


def _rules(chosen: dict[Capability, Access | None], every: Access | None) -> list[dict[str, Any]]:
    rules = []
    for capability, access in chosen.items():
        access = access or every
        if access is not None:
            rules.append({"capability": capability.value, "access": access.value})
    if not rules:
        fail("name what changes: --trading, --crypto-deposit, ... (one per capability) or --all")
    return rules


def _default_name(country: str, basis: Basis, rules: list[dict[str, Any]]) -> str:
    who = "nationals" if basis is Basis.NATIONALITY else "residents"
    what = ", ".join(f"{r['capability']} {r['access']}".lower().replace("_", " ") for r in rules)
    return f"{country} {who}: {what}"[:120]


@policy_app.command("preview")
def policy_preview(
    country: CountryArg,
    onboarding: Annotated[Access | None, _access_opt("--onboarding")] = None,
    trading: Annotated[Access | None, _access_opt("--trading")] = None,
    crypto_deposit: Annotated[Access | None, _access_opt("--crypto-deposit")] = None,
    crypto_withdrawal: Annotated[Access | None, _access_opt("--crypto-withdrawal")] = None,
    fiat_deposit: Annotated[Access | None, _access_opt("--fiat-deposit")] = None,
    fiat_withdrawal: Annotated[Access | None, _access_opt("--fiat-withdrawal")] = None,
    every: Annotated[
        Access | None,
        typer.Option("--all", case_sensitive=False, help="Every capability not named on its own."),
    ] = None,
    deadline: Annotated[
        str | None,
        typer.Option(help="When an exit window (withdraw_only) closes: 2026-12-30 or ISO time."),
    ] = None,
    nationality: NationalityOpt = False,
    holdings_above: Annotated[
        str | None,
        typer.Option(
            "--if-holdings-above",
            help='Restrict only accounts holding more than this, like "10000 EUR".',
        ),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option(
            "--exclude",
            help='Leave an asset no price values out of the holdings, with why: "XYZ: reason".',
        ),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="The policy's name (refusals quote it).")
    ] = None,
    save: SaveOpt = None,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Show whom a policy for COUNTRY would touch and save the preview for `policy apply`."""
    country = country.strip().upper()
    basis = _basis(nationality)
    chosen = {
        Capability.ONBOARDING: onboarding,
        Capability.TRADING: trading,
        Capability.CRYPTO_DEPOSIT: crypto_deposit,
        Capability.CRYPTO_WITHDRAWAL: crypto_withdrawal,
        Capability.FIAT_DEPOSIT: fiat_deposit,
        Capability.FIAT_WITHDRAWAL: fiat_withdrawal,
    }
    rules = _rules(chosen, every)
    condition = _holdings_condition(holdings_above, exclude or [])
    if condition is not None:
        restricted = [r for r in rules if r["access"] != Access.OPEN]
        if not restricted:
            fail("--if-holdings-above needs a capability that the policy restricts")
        for rule in restricted:
            rule["condition"] = condition
    body: dict[str, Any] = {
        "name": name or _default_name(country, basis, rules),
        "country": country,
        "basis": basis.value,
        "rules": rules,
    }
    if deadline is not None:
        body["deadline"] = deadline
    preview = AdminClient(data_dir, url, token).call("POST", "/policies/preview", json=body)
    saved = save_preview(preview, save, data_dir, f"policy-preview-{country}")
    if as_json:
        print_json(preview)
        err.print(f"saved to {escape(str(saved))}")
        return
    typed: Limits = {}
    if condition is not None:
        conditions = [r["condition"] for r in preview["apply"]["spec"]["rules"] if r["condition"]]
        typed = {(c["asset"], c["limit_raw"]): condition["limit"] for c in conditions}
    show_preview(preview, saved, typed)


@policy_app.command("apply")
def policy_apply(
    file: FileArg,
    reason: ReasonOpt,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Apply a saved preview now, exactly as it was shown."""
    body = {**load_preview(file, "bourse policy preview"), "reason": reason}
    applied = AdminClient(data_dir, url, token).call("POST", "/policies/apply", json=body)
    if as_json:
        print_json(applied)
        return
    spec = applied.get("spec") or body["spec"]  # the server's view gives limits as decimals
    out.print(
        f"applied [bold]{escape(spec['name'])}[/] as change {applied.get('changeId')}: "
        f"{escape(spec['basis'].lower())} {escape(spec['country'])}, {escape(rules_text(spec))}"
    )


@policy_app.command("schedule")
def policy_schedule(
    file: FileArg,
    at: Annotated[
        str, typer.Option("--at", help="When it applies, ISO 8601 (UTC): 2026-12-01T00:00Z.")
    ],
    reason: ReasonOpt,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Schedule a saved preview to apply at a later time."""
    if not at.strip():  # not 1970: the server reads an empty time as "none given"
        fail("--at must not be empty: give when it applies, ISO 8601 (UTC): 2026-12-01T00:00Z")
    body = {**load_preview(file, "bourse policy preview"), "effective": at, "reason": reason}
    scheduled = AdminClient(data_dir, url, token).call("POST", "/policies/schedule", json=body)
    if as_json:
        print_json(scheduled)
        return
    out.print(
        f"scheduled [bold]{escape(body['spec']['name'])}[/] for {escape(at)} "
        f"(schedule id {scheduled.get('scheduleId')}; `bourse policy unschedule` cancels it)"
    )


@policy_app.command("unschedule")
def policy_unschedule(
    schedule_id: Annotated[int, typer.Argument(help="The schedule id `policy show` lists.")],
    reason: ReasonOpt,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Cancel a scheduled policy change."""
    canceled = AdminClient(data_dir, url, token).call(
        "DELETE",
        f"/policies/schedule/{segment(schedule_id, 'the schedule id')}",
        params={"reason": reason},
    )
    if as_json:
        print_json(canceled)
        return
    out.print(f"canceled scheduled change {schedule_id}")


@policy_app.command("show")
def policy_show(
    country: Annotated[str | None, typer.Argument(help="Only this country's policies.")] = None,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """The policies in force, the scheduled changes and the sweeps still running."""
    wanted = country.strip().upper() if country is not None else None
    if wanted is not None and (problem := country_problem(wanted)):
        fail(problem)  # not "no policy in force" for a country that does not exist
    found = AdminClient(data_dir, url, token).call("GET", "/policies")
    if wanted is not None:
        for key in ("inForce", "scheduled"):
            found[key] = [p for p in found[key] if p["spec"]["country"] == wanted]
    if as_json:
        print_json(found)
        return
    lines = [line for p in found["inForce"] for line in in_force_lines(p)]
    lines = lines or ["no policy in force" + (f" for {escape(wanted)}" if wanted else "")]
    if found["scheduled"]:
        lines += ["", "[bold]scheduled[/]"]
        lines += [line for s in found["scheduled"] for line in scheduled_lines(s)]
    out.print("\n".join(lines))
    if found["sweeps"]:
        show(rows_table("sweeps running", found["sweeps"]))


@policy_app.command("reverse")
def policy_reverse(
    country: CountryArg,
    nationality: NationalityOpt = False,
    save: SaveOpt = None,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Preview going back to what COUNTRY's policy replaced, and save it for `policy apply`."""
    country = country.strip().upper()
    path = f"/policies/{_basis(nationality).value}/{segment(country, 'the country')}"
    path += "/reversal/preview"
    preview = AdminClient(data_dir, url, token).call("POST", path)
    saved = save_preview(preview, save, data_dir, f"policy-reversal-{country}")
    if as_json:
        print_json(preview)
        err.print(f"saved to {escape(str(saved))}")
        return
    show_preview(preview, saved)


@policy_app.command("closure")
def policy_closure(
    change_id: Annotated[
        int, typer.Argument(help="The change that closed the exit window (`policy show`).")
    ],
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """What the customers of a closed jurisdiction still held when it closed."""
    report = AdminClient(data_dir, url, token).call(
        "GET", f"/closures/{segment(change_id, 'the change id')}"
    )
    if as_json:
        print_json(report)
        return
    header = {k: v for k, v in report.items() if k not in ("customers", "totals", "closedMs")}
    header["closed"] = utc_text(report["closedMs"])
    held = [
        {"customer": c["customerId"], "name": c["legalName"], "account": a["accountId"], **b}
        for c in report["customers"]
        for a in c["accounts"]
        for b in a["balances"]
    ]
    totals = [{"asset": asset, "total": v} for asset, v in report["totals"].items()]
    tables = [record_table(f"closure of change {change_id}", header)]
    if held:
        tables.append(rows_table("what each customer still holds", held))
    if totals:
        tables.append(rows_table("totals", totals))
    show(*tables)
