"""A customer's dossier for a regulator: every record about them, read as a person reads a file
(profile and its changes, accounts, orders, trades, money in and out, screening alerts and who
decided them, the policies of their countries, freezes), each item citing the record it comes
from, with the bundle of those records and their proofs beside it.

The sections are read off the records alone (`sections`), so anyone holding the verified bundle
can check that the dossier says what the records say.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bourse.audit.verify_bundle import evidence_text
from bourse.domain.money import to_str
from bourse.private_files import private_dir

if TYPE_CHECKING:
    from bourse.audit.log import AuditLog

Item = dict[str, Any]
SECTIONS = (
    ("kyc", "KYC profile and its changes"),
    ("accounts", "Accounts"),
    ("freezes", "Freezes, holds and their evidence"),
    ("alerts", "Screening alerts and decisions"),
    ("policies", "Jurisdiction policies of the customer's countries"),
    ("deposits", "Deposits"),
    ("withdrawals", "Withdrawals"),
    ("orders", "Orders"),
    ("trades", "Trades"),
    ("refused", "Refused requests"),
    ("other", "Other records"),
)


class Amounts:
    """Raw integers as decimal text, by the asset's or the symbol's precision."""

    def __init__(
        self, assets: dict[str, int], symbols: dict[str, tuple[str, str, int, int]]
    ) -> None:
        self.assets = assets
        self.symbols = symbols

    def asset(self, asset: str, raw: int) -> str:
        precision = self.assets.get(asset)
        return f"{raw} raw" if precision is None else f"{to_str(raw, precision)} {asset}"

    def order(self, symbol: str, price_raw: int, qty_raw: int) -> str:
        spec = self.symbols.get(symbol)
        if spec is None:
            return f"{qty_raw} raw at {price_raw} raw"
        base, quote, base_p, quote_p = spec
        qty = f"{to_str(qty_raw, base_p)} {base}"
        return qty if not price_raw else f"{qty} at {to_str(price_raw, quote_p)} {quote}"


def sections(
    records: Iterable[dict[str, Any]], customer_id: int, amounts: Amounts
) -> dict[str, list[Item]]:
    """The dossier's sections from the customer's records (as a bundle holds them), in order."""
    out: dict[str, list[Item]] = {key: [] for key, _ in SECTIONS}
    accounts: set[int] = set()
    countries: set[str] = set()
    for record in records:
        before = sum(len(v) for v in out.values())
        summary = record["summary"]
        base = {
            "seq": record["seq"],
            "time": record["time"],
            "actor": summary["actor"],
            "reason": summary["reason"],
        }
        if summary.get("approved_by"):
            base["proposed_by"] = summary.get("proposed_by", "")
            base["approved_by"] = summary["approved_by"]
            base["approval_reason"] = summary.get("approval_reason", "")
        for event in record["events"]:
            item = _item(event, customer_id, accounts, countries, amounts)
            if item is not None:
                section, text, extra = item
                entry = {**base, "what": text, **extra}
                for key in ("actor", "reason", "evidence"):
                    if event.get(key):
                        entry[key] = evidence_text(event[key])
                out[section].append(entry)
        if summary["refused"]:
            rejected = next(e for e in record["events"] if e.get("type") == "CommandRejected")
            out["refused"].append(
                {**base, "what": f"{summary['type']} refused: {rejected['reason']}"}
            )
        elif sum(len(v) for v in out.values()) == before:
            out["other"].append({**base, "what": summary["type"]})
    return out


def _item(
    e: dict[str, Any],
    customer_id: int,
    accounts: set[int],
    countries: set[str],
    amounts: Amounts,
) -> tuple[str, str, dict[str, Any]] | None:
    kind = e.get("type")
    mine = e.get("account_id") in accounts
    if kind == "CustomerRecorded" and e["customer_id"] == customer_id:
        countries.update({e["residence"], e["nationality"]})
        text = (
            f"{e['legal_name']}, born {e['date_of_birth']}, national of {e['nationality']}, "
            f"resident in {e['residence']}, KYC level {e['kyc_level']}, risk {e['risk_tier']}, "
            f"venue {e['venue'] or '-'}"
        )
        return "kyc", text, {}
    if kind == "AccountOpened" and e.get("customer_id") == customer_id:
        accounts.add(e["account_id"])
        return "accounts", f"account {e['account_id']} opened", {}
    if kind in ("AccountFrozen", "AccountUnfrozen") and mine:
        verb = "frozen" if kind == "AccountFrozen" else "unfrozen"
        return "freezes", f"account {e['account_id']} {verb}", {}
    if kind in ("CustomerHeld", "CustomerReleased") and e["customer_id"] == customer_id:
        verb = "held" if kind == "CustomerHeld" else "released"
        return "freezes", f"customer {verb} by alert {e['alert_id']}", {}
    if kind == "ScreeningAlertRaised" and e["customer_id"] == customer_id:
        text = f"alert {e['alert_id']} raised ({e.get('kind', 'hit')})"
        return "alerts", text, {"evidence": evidence_text(e["evidence"])}
    if kind == "ScreeningAlertDecided" and e["customer_id"] == customer_id:
        return "alerts", f"alert {e['alert_id']} {e['decision']}", {}
    if kind in ("PolicyApplied", "PolicyScheduled") and e["spec"]["country"] in countries:
        spec = e["spec"]
        rules = ", ".join(f"{r.get('capability')} {r.get('access')}" for r in spec.get("rules", []))
        verb = "applied" if kind == "PolicyApplied" else "scheduled"
        where = f"{spec['country']} ({spec.get('basis')})"
        text = f"policy {spec['name']!r} for {where} {verb}: {rules or 'all open'}"
        return "policies", text, {}
    if kind == "DepositCredited" and mine:
        return "deposits", f"{amounts.asset(e['asset'], e['amount_raw'])} credited", {}
    if kind in ("WithdrawalRequested", "WithdrawalCompleted", "WithdrawalFailed") and mine:
        verb = kind.removeprefix("Withdrawal").lower()
        amount = amounts.asset(e["asset"], e["amount_raw"])
        text = f"withdrawal {e['withdrawal_id']} of {amount} {verb}"
        if e.get("destination"):
            text += f" to {e['destination']}"
        return "withdrawals", text, {}
    if kind == "OrderAccepted" and mine:
        what = amounts.order(e["symbol"], e["price_raw"], e["qty_raw"])
        text = f"order {e['order_id']}: {e['side']} {e['order_type']} {e['symbol']} {what}"
        return "orders", text, {}
    if kind in ("OrderCanceled", "OrderExpired") and mine:
        return "orders", f"order {e['order_id']} {kind.removeprefix('Order').lower()}", {}
    if kind == "TradeExecuted" and (
        e["maker_account_id"] in accounts or e["taker_account_id"] in accounts
    ):
        side = "maker" if e["maker_account_id"] in accounts else "taker"
        what = amounts.order(e["symbol"], e["price_raw"], e["qty_raw"])
        return "trades", f"trade {e['trade_id']} on {e['symbol']} as {side}: {what}", {}
    return None


def chromium() -> str | None:
    """The headless browser that prints the PDF (Debian's package; `BOURSE_CHROMIUM` to choose)."""
    import os
    import shutil

    chosen = os.environ.get("BOURSE_CHROMIUM")
    if chosen:
        return chosen
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def print_pdf(html: Path, pdf: Path, timeout_s: float = 120.0) -> str | None:
    """`html` printed to `pdf` by headless Chromium; None, or why there is no PDF."""
    import subprocess
    import tempfile

    browser = chromium()
    if browser is None:
        return "no PDF: Chromium is not installed (apt-get install chromium)"
    with tempfile.TemporaryDirectory() as profile:
        ran = subprocess.run(
            [
                browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                f"--user-data-dir={profile}", "--no-pdf-header-footer",
                f"--print-to-pdf={pdf}", html.resolve().as_uri(),
            ],
            capture_output=True, text=True, timeout=timeout_s, check=False,
        )  # fmt: skip
    if ran.returncode != 0 or not pdf.exists():
        return f"no PDF: Chromium failed ({ran.returncode}): {ran.stderr.strip()[-300:]}"
    return None


def write_dossier(
    audit: AuditLog,
    customer_id: int,
    out_dir: Path,
    *,
    signer_dir: Path,
    now_ms: int,
    requested_by: str = "operator",
    scope: str = "",
    pdf: bool = True,
) -> dict[str, Any]:
    """Write `bundle.jsonl`, `dossier.json`, `dossier.html` and (with Chromium) `dossier.pdf`
    for the customer into `out_dir`; the dossier as written (with its verification)."""
    import jinja2

    from bourse.audit.export import iso, write_bundle
    from bourse.audit.log import Query
    from bourse.audit.verify_bundle import VerificationError, read_lines, verify

    if audit.customer(customer_id) is None:
        raise ValueError(f"the audit log holds no record of customer {customer_id}")
    if out_dir.exists() and not out_dir.is_dir():  # private_dir would chmod it, then fail
        raise NotADirectoryError(f"{out_dir} is not a directory")
    private_dir(out_dir)
    bundle = out_dir / "bundle.jsonl"
    with open(bundle, "w", encoding="utf-8") as f:
        manifest = write_bundle(
            audit,
            Query(customer=customer_id, with_policies=True),
            f,
            signer_dir=signer_dir,
            now_ms=now_ms,
        )
    problem = ""
    try:
        verification: dict[str, Any] = verify(str(bundle))
    except VerificationError as exc:
        verification, problem = {"verified": False}, str(exc)
    lines = read_lines(str(bundle))
    _, header = next(lines)
    records = [record for _, record in lines]
    dossier = sections(records, customer_id, Amounts(*audit.precisions()))
    kyc = dossier["kyc"]
    name = kyc[-1]["what"].split(",")[0] if kyc else f"customer {customer_id}"
    head = header["head"]
    result = {
        "customer_id": customer_id,
        "name": name,
        "generated_at": iso(now_ms),
        "requested_by": requested_by,
        "scope": scope,
        "head": head,
        "keys": header["keys"],
        "verification": {**verification, "problem": problem},
        "count": manifest["count"],
        "sections": dossier,
    }
    (out_dir / "dossier.json").write_text(json.dumps(result, indent=2) + "\n")
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bourse.audit", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    html = env.get_template("dossier.html").render(
        customer_id=customer_id,
        name=name,
        generated_at=iso(now_ms)[:19].replace("T", " ") + " UTC",
        requested_by=requested_by,
        scope=scope,
        count=manifest["count"],
        head=head,
        head_time=iso(int(head["timestamp_ms"]))[:19].replace("T", " ") + " UTC",
        verified=bool(verification.get("verified")),
        problem=problem,
        sections=SECTIONS,
        dossier=dossier,
    )
    html_path = out_dir / "dossier.html"
    html_path.write_text(html)
    result["pdf"] = None
    if pdf:
        missing = print_pdf(html_path, out_dir / "dossier.pdf")
        result["pdf"] = missing or str(out_dir / "dossier.pdf")
    return result
