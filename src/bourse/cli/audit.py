"""`bourse audit ...`: the audit log's signed heads, exports a regulator verifies, the monitor.

Reading (head, export, watch) works on the data directory beside a running server: the log's
files are append-only and only what a signed head covers is read. Signing a head goes through
the running server (its audit worker owns the log), or, with the server stopped, opens the
exchange, which first brings the log up to date with the journal.
"""

import json
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from bourse.cli.common import ReasonOpt, TokenOpt, print_json
from bourse.cli.console import DataDirOpt, err, fail, out
from bourse.cli.operator import AdminClient, UrlOpt
from bourse.domain.limits import INT64_MAX
from bourse.server.datadir import DataDir, DataDirInUse

CustomerOpt = typer.Option("--customer", min=0, max=INT64_MAX, help="The customer's number.")
EVERY_MAX_S = 7 * 86_400  # a monitor checking less often than weekly watches nothing

audit_app = typer.Typer(
    help="The audit log: signed tree heads, exports and their verification, the monitor.",
    no_args_is_help=True,
)


def _parse_time(value: str | None, what: str) -> int | None:
    from bourse.audit.export import ExportError, parse_time

    if value is None:
        return None
    try:
        return parse_time(value, what)
    except ExportError as exc:
        fail(str(exc))


def _exchange_in(dd: DataDir) -> None:
    """Refuse a data directory that holds no exchange (opening one there would start a new
    exchange: journal, store, signing key), creating nothing."""
    from bourse.journal.opening import journal_spec

    if not dd.path.is_dir():
        fail(f"no exchange in {dd.path}: the directory does not exist")
    if journal_spec("", dd.path):  # a journal on NATS (BOURSE_JOURNAL): the stream holds it
        return
    if not dd.journal.is_dir() or not any(dd.journal.glob("journal-*.log")):
        fail(
            f"no exchange in {dd.path}: it holds no journal (start one with "
            f"`bourse run --data-dir {dd.path}`, or name its data directory with --data-dir)"
        )


def _reader(dd: DataDir) -> Any:
    from bourse.audit.log import AuditLog, DamagedLog

    _exchange_in(dd)
    try:
        return AuditLog.reader(dd.path)
    except FileNotFoundError as exc:
        fail(f"{exc}: start the exchange once (`bourse run`) or run `bourse audit rebuild`")
    except DamagedLog as exc:
        fail(str(exc))


def _latest_head(audit: Any) -> dict[str, Any] | None:
    """The newest signed head; saying so on stderr if a torn last line was skipped."""
    from bourse.audit.log import DamagedLog

    try:
        head: dict[str, Any] | None = audit.latest_head()
    except DamagedLog as exc:
        fail(str(exc))
    _warn_torn_head(audit)
    return head


def _warn_torn_head(audit: Any) -> None:
    """Say on stderr that reading the heads skipped a torn last line (AuditLog.heads_note)."""
    if audit.heads_note:
        err.print(f"[yellow]warning:[/] {escape(audit.heads_note)}")


def _sign_locally(dd: DataDir) -> dict[str, Any] | None:
    from bourse.server.exchange import Exchange

    _exchange_in(dd)

    try:
        exchange = Exchange(dd, demo=False, audit=True)
    except DataDirInUse as exc:
        fail(str(exc))
    try:
        assert exchange.audit is not None
        head: dict[str, Any] | None = exchange.audit.sign_head()
        problem = exchange.audit.signer_problem
    finally:
        exchange.close(snapshot_on_close=False)
    if head is None:
        fail(f"no head signed: {problem}")
    return head


@audit_app.command("head")
def head_cmd(
    data_dir: DataDirOpt = Path("data"),
    sign: Annotated[bool, typer.Option("--sign", help="Sign a new head over the log now.")] = False,
) -> None:
    """Print the newest signed tree head (JSON); with --sign, sign one now first."""
    dd = DataDir(data_dir)
    if sign:
        url = dd.server_url()
        if url is not None:
            import httpx

            try:
                response = httpx.post(
                    f"{url}/admin/v1/audit/heads",
                    headers={"Authorization": f"Bearer {dd.operator_token()}"},
                    timeout=60,
                )
            except httpx.HTTPError as exc:
                fail(f"cannot reach the server at {url}: {exc}")
            if response.status_code != 200:
                fail(f"the server refused: {response.text}")
            print_json(response.json())
            return
        print_json(_sign_locally(dd))
        return
    audit = _reader(dd)
    try:
        head = _latest_head(audit)
    finally:
        audit.close()
    if head is None:
        fail("no tree head has been signed yet: `bourse audit head --sign`")
    print_json(head)


@audit_app.command("export")
def export_cmd(
    out_path: Annotated[Path, typer.Argument(metavar="OUT", help="The bundle to write (.jsonl).")],
    data_dir: DataDirOpt = Path("data"),
    from_: Annotated[str | None, typer.Option("--from", help="From this time (ISO 8601).")] = None,
    to: Annotated[str | None, typer.Option("--to", help="Up to (not including) this time.")] = None,
    customer: Annotated[
        int | None,
        typer.Option("--customer", min=0, max=INT64_MAX, help="Records about this customer."),
    ] = None,
    venue: Annotated[str | None, typer.Option("--venue", help="Records about this venue.")] = None,
    country: Annotated[
        str | None, typer.Option("--country", help="Records about this country.")
    ] = None,
    actor: Annotated[
        str | None, typer.Option("--actor", help="Records by this actor (staff:NAME).")
    ] = None,
    command: Annotated[
        str | None, typer.Option("--command", help="Records of this command type.")
    ] = None,
    against: Annotated[
        Path | None,
        typer.Option(
            "--against", help="A head (JSON) the reader keeps: prove the new one extends it."
        ),
    ] = None,
    as_range: Annotated[
        bool, typer.Option("--range", help="Prove consecutive records together (large exports).")
    ] = False,
) -> None:
    """Export the records a query names, each with its inclusion proof, checked against the
    newest signed head, in a bundle anyone can verify (`bourse audit verify`, or the standalone
    verify_bundle.py)."""
    from bourse.audit.export import ExportError, write_bundle
    from bourse.audit.log import DamagedLog, Query

    dd = DataDir(data_dir)
    target = _output_file(out_path, "the bundle")
    trusted = _trusted_head(against) if against is not None else None
    query = Query(
        from_ms=_parse_time(from_, "--from"),
        to_ms=_parse_time(to, "--to"),
        customer=customer,
        venue=venue,
        country=country,
        actor=actor,
        type=command,
    )
    audit = _reader(dd)
    # written beside the target and renamed once whole: a failed export leaves nothing behind
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as exc:
        audit.close()
        fail(f"cannot write the bundle to {out_path}: {exc.strerror or exc}")
    tmp = Path(tmp_name)
    try:
        with open(fd, "w", encoding="utf-8") as f:
            manifest = write_bundle(
                audit,
                query,
                f,
                signer_dir=dd.path,
                against=trusted,
                now_ms=time.time_ns() // 10**6,
                as_range=as_range,
            )
            _warn_torn_head(audit)
        os.chmod(tmp, 0o666 & ~_umask())  # as open() would have made it
        os.replace(tmp, target)
    except (ExportError, DamagedLog) as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write the bundle to {out_path}: {exc.strerror or exc}")
    finally:
        tmp.unlink(missing_ok=True)
        audit.close()
    err.print(
        f"{manifest['count']} records, checked against the tree head of size "
        f"{manifest['tree_size']}, written to {out_path}"
    )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _output_file(path: Path, what: str) -> Path:
    """`path` as a file to write, or a clear error: not a directory, in one that exists."""
    if str(path) in ("", "."):
        fail(f"name the file to write {what} to")
    if path.is_dir():
        fail(f"{path} is a directory: name the file to write {what} to")
    parent = path.parent
    if not parent.is_dir():
        fail(f"cannot write {what} to {path}: the directory {parent} does not exist")
    return path


def _trusted_head(path: Path) -> dict[str, Any]:
    """The head (JSON) given with --against, or a clear error naming the file."""
    try:
        value = json.loads(path.read_bytes())
    except OSError as exc:
        fail(f"cannot read --against {path}: {exc.strerror or exc}")
    except ValueError:  # not UTF-8, or not JSON
        fail(f"--against {path} is not a tree head (JSON)")
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("tree_size"), int)
        or isinstance(value.get("tree_size"), bool)
        or value["tree_size"] < 0
        or not isinstance(value.get("root_hash"), str)
    ):
        fail(f"--against {path} is not a signed tree head: it needs a tree_size and a root_hash")
    return value


@audit_app.command("dossier")
def dossier_cmd(
    out_dir: Annotated[Path, typer.Argument(metavar="OUT_DIR", help="Where to write it.")],
    customer: Annotated[int, CustomerOpt],
    data_dir: DataDirOpt = Path("data"),
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="Print a PDF with Chromium.")] = True,
) -> None:
    """A customer's dossier for a regulator: dossier.json, a print-ready dossier.html (and
    dossier.pdf), and bundle.jsonl with every record it cites and their proofs, checked
    against the newest signed head."""
    from bourse.audit.dossier import write_dossier
    from bourse.audit.export import ExportError
    from bourse.audit.log import DamagedLog

    dd = DataDir(data_dir)
    if out_dir.exists() and not out_dir.is_dir():
        fail(f"{out_dir} is not a directory: name a directory to write the dossier into")
    audit = _reader(dd)
    try:
        result = write_dossier(
            audit, customer, out_dir, signer_dir=dd.path, now_ms=time.time_ns() // 10**6,
            requested_by="operator", pdf=pdf,
        )  # fmt: skip
    except (ExportError, ValueError, DamagedLog) as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write the dossier to {out_dir}: {exc.strerror or exc}")
    finally:
        audit.close()
    verified = result["verification"]
    err.print(
        f"{result['count']} records about {result['name']}, "
        + ("verified" if verified.get("verified") else f"NOT VERIFIED: {verified['problem']}")
        + f" against the tree head of size {result['head']['tree_size']}; written to {out_dir}"
        + ("" if not pdf or str(result["pdf"]).endswith(".pdf") else f" ({result['pdf']})")
    )
    print_json({k: result[k] for k in ("customer_id", "name", "count", "pdf")})


@audit_app.command("verify")
def verify_cmd(
    bundle: Annotated[Path, typer.Argument(help="The bundle (.jsonl) to check.")],
    key: Annotated[
        str | None, typer.Option("--key", help="The exchange's audit key to pin (hex or key id).")
    ] = None,
    head: Annotated[
        Path | None,
        typer.Option("--head", help="A head (JSON) you kept: the bundle must extend it."),
    ] = None,
) -> None:
    """Check every signature and proof of a bundle, exactly as the standalone verifier does;
    exit 1 naming the first bad record or proof."""
    from bourse.audit import verify_bundle

    args = [str(bundle)]
    if key:
        args += ["--key", key]
    if head:
        args += ["--head", str(head)]
    code = verify_bundle.main(args)
    if code:
        raise typer.Exit(code)


@audit_app.command("verifier")
def verifier_cmd(
    to: Annotated[
        Path | None, typer.Argument(help="Copy it here (default: print its path).")
    ] = None,
) -> None:
    """The standalone verifier: one file a regulator runs with Python and `cryptography`."""
    from bourse.audit import verify_bundle

    source = Path(verify_bundle.__file__)
    if to is None:
        out.print(str(source))
        return
    target = _output_file(to, "the verifier")
    try:
        shutil.copyfile(source, target)
    except OSError as exc:
        fail(f"cannot copy the verifier to {to}: {exc.strerror or exc}")
    err.print(f"copied to {to}: python3 {to} BUNDLE.jsonl --key KEY_ID")


@audit_app.command("watch")
def watch_cmd(
    state: Annotated[
        Path, typer.Option("--state", help="Where the monitor keeps the head it trusts.")
    ],
    data_dir: DataDirOpt = Path("data"),
    every: Annotated[
        float, typer.Option("--every", help="Seconds between checks (more than 0).")
    ] = 10.0,
    once: Annotated[bool, typer.Option("--once", help="Check once and exit.")] = False,
    url: Annotated[
        str | None,
        typer.Option("--url", help="Watch a server instead (with an auditor's --token)."),
    ] = None,
    token: TokenOpt = None,
) -> None:
    """Monitor the log: accept each new signed head only if it extends the one trusted before;
    exit 1 with an alarm naming both sizes if history was rewritten. It reads the data
    directory's files, or with --url a server's audit routes, as a third party would."""
    from bourse.audit.log import AuditLog, DamagedLog
    from bourse.audit.watch import RemoteLog, StateError, check, load_state

    if not (math.isfinite(every) and 0 < every <= EVERY_MAX_S):
        fail(f"--every must be more than 0 and at most {EVERY_MAX_S} seconds, not {every:g}")
    try:
        load_state(state)  # refused before anything is read: only a missing file is first use
    except StateError as exc:
        fail(str(exc))
    dd = DataDir(data_dir)
    if url is None:
        _exchange_in(dd)
    while True:
        try:
            audit: AuditLog | RemoteLog = (
                AuditLog.reader(dd.path) if url is None else RemoteLog(url, token or "")
            )
        except (FileNotFoundError, RuntimeError, DamagedLog) as exc:
            fail(str(exc))
        try:
            result = check(audit, state)
        except (RuntimeError, DamagedLog) as exc:
            fail(str(exc))
        finally:
            audit.close()
        if isinstance(audit, AuditLog):
            _warn_torn_head(audit)
        stream = sys.stdout if result.ok else sys.stderr
        print(result.message, file=stream, flush=True)
        if not result.ok:
            raise typer.Exit(1)
        if once:
            return
        time.sleep(every)  # a monitor's interval between polls of the log


@audit_app.command("rebuild")
def rebuild_cmd(data_dir: DataDirOpt = Path("data")) -> None:
    """Rebuild the tree and its index from the journal (the server stopped). Keys and the
    signed heads are kept: the rebuilt tree must match them, and `bourse audit watch` says so."""
    from bourse.server.exchange import Exchange

    dd = DataDir(data_dir)
    _exchange_in(dd)
    if dd.is_locked_by_other():
        fail("the server is running: stop it first")
    audit_dir = dd.path / "audit"
    for name in ("tree", "index.sqlite", "index.sqlite-wal", "index.sqlite-shm"):
        target = audit_dir / name
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
    try:
        exchange = Exchange(dd, demo=False, audit=True)
    except DataDirInUse as exc:
        fail(str(exc))
    exchange.close(snapshot_on_close=False)
    audit = _reader(dd)
    try:
        print_json({"tree_size": audit.size, "root_hash": audit.root().hex()})
    finally:
        audit.close()


@audit_app.command("rotate-key")
def rotate_key_cmd(
    reason: ReasonOpt,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Make a new signing key on the running server and journal it (four-eyed by default: a
    second person approves with `bourse proposals approve`); heads after it use the new key."""
    client = AdminClient(data_dir, url, token)
    answer = client.call("POST", "/audit/keys", json={"reason": reason})
    print_json(answer)
