"""`bourse lists load|show|diff`: sanctions list versions, in the data directory itself.

Like `bourse staff`, these work with or without a running server: versions are plain files beside
the journal. A malformed publication exits 1 naming the line or element at fault, and the version
in force stays; so does one the guard refuses (no entries, or removing more than 20% of the
entries in force or of what they carry) unless forced with a reason, journaled first: through
the running server, or by opening the data directory's journal when none runs. A command that
could not run (no such file, bad option) exits 2.
"""

from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer
from rich.markup import escape

from bourse.cli.common import print_json, record_table, rows_table, show
from bourse.cli.console import err, fail, out
from bourse.cli.operator import AdminClient, JsonOpt
from bourse.compliance.sanctions.entries import ListEntry, ListFormatError, ListVersion
from bourse.compliance.sanctions.versions import (
    MAX_REMOVED_PERCENT,
    SOURCES,
    Forcing,
    ListDiff,
    ListShrinkRefused,
    ListSourceError,
    ListStore,
    Shrink,
    VersionInfo,
    diff,
)
from bourse.server.datadir import DataDir, DataDirInUse

lists_app = typer.Typer(
    help="Sanctions lists (OFAC SDN, OFAC consolidated, UN), in the data directory.",
    no_args_is_help=True,
)

ListsDirOpt = Annotated[
    Path, typer.Option("--data-dir", help="The data directory whose lists to manage.")
]
SourceArg = Annotated[str, typer.Argument(help=f"The list: {', '.join(SOURCES)}.")]
SHOWN = 10  # entries of each kind printed (--json prints them all)
ACTOR = "operator"  # who forces: the holder of the data directory and its operator token


def _store(data_dir: Path, create: bool = False) -> ListStore:
    """The lists of `data_dir`; commands that write (`create`) make a new data directory, so
    lists can be loaded before the first `bourse run`. Reading a missing one is a mistyped
    --data-dir, not an exchange without lists."""
    if create:
        DataDir(data_dir).create()
    elif not data_dir.is_dir():
        fail(f"no data directory at {data_dir.absolute()}: pass --data-dir of a bourse server")
    return ListStore(data_dir)


def _forcing(data_dir: Path, reason: str) -> Forcing:
    """Journal ForceListVersion before the version goes into force: through the running server,
    else in the data directory's own journal (the server is not running, so this may open it)."""
    dd = DataDir(data_dir)

    def journal(shrink: Shrink) -> int:
        if dd.server_url() is not None:  # the route stamps actor and time, and holds four eyes
            fields = msgspec.to_builtins(shrink.command(ACTOR, reason, 0))
            body = {k: v for k, v in fields.items() if k not in ("actor", "ts_ms", "type")}
            done = AdminClient(data_dir, None, None).call(
                "POST",
                "/lists/force",
                json=body,
                then="once approved, run this same `bourse lists load ... --force` again",
            )
            return int(done["seq"])
        return _journal_here(dd, shrink, reason)

    return Forcing(actor=ACTOR, reason=reason, journal=journal)


def _journal_here(dd: DataDir, shrink: Shrink, reason: str) -> int:
    from bourse.domain.rejections import RejectCode
    from bourse.events import CommandRejected
    from bourse.journal.opening import journal_spec
    from bourse.server.exchange import Exchange, now_ms
    from bourse.workers.list_forcing import decided_since, loaded_ms

    no_journal = (
        f"{dd.path} has no journal to record the forced load in: start the exchange once "
        f"(bourse run --data-dir {dd.path}), then force it"
    )
    if not journal_spec("", dd.path) and not dd.journal.exists():
        fail(no_journal)  # opening it would start an exchange without its genesis
    try:
        exchange = Exchange(dd, demo=False)
    except DataDirInUse as exc:
        fail(str(exc))
    if exchange.fresh:  # a stream on NATS with nothing in it yet
        exchange.close()
        fail(no_journal)
    try:
        cmd = shrink.command(ACTOR, reason, now_ms())
        since = loaded_ms(ListStore(dd.path), cmd.source)
        decided = decided_since(exchange.read_model(), cmd, since)
        if decided is not None:
            return decided  # approved through four eyes while the server ran
        outcome = exchange.execute(cmd)
    finally:
        exchange.close()
    for event in outcome.events:
        if isinstance(event, CommandRejected):
            hint = (
                ": start the server and force it there, for a second person to approve"
                if event.code is RejectCode.FOUR_EYES_REQUIRED
                else ""
            )
            fail(f"refused: {event.reason}{hint}", code=1)
    return outcome.seq


def _not_after_today(published: str) -> None:
    """A list is published before it is loaded: a later date is a typo that would put that
    version in force dated in the future."""
    from datetime import UTC, date, datetime

    from bourse.domain.calendar import parse_date

    day = parse_date(published)
    today = datetime.now(UTC).date()
    if day is not None and date(*day) > today:
        fail(f"--published {published} is after today ({today.isoformat()})")


def _source(source: str) -> str:
    if source not in SOURCES:
        fail(f"unknown list {source!r}: one of {', '.join(SOURCES)}")
    return source


def _summary(version: ListVersion) -> dict[str, Any]:
    return {
        "source": version.source,
        "published": version.published,
        "sha256": version.content_sha256,
        "entries": len(version.entries),
        "origin": version.origin,
    }


def _entry(entry: ListEntry) -> dict[str, Any]:
    return {"entryId": entry.entry_id, "schema": entry.schema, "name": entry.name}


def _diff_json(changes: ListDiff, limit: int | None) -> dict[str, Any]:
    return {
        "counts": {
            "added": len(changes.added),
            "removed": len(changes.removed),
            "changed": len(changes.changed),
        },
        "added": [_entry(e) for e in changes.added[:limit]],
        "removed": [_entry(e) for e in changes.removed[:limit]],
        "changed": [{**_entry(c.after), "fields": list(c.fields)} for c in changes.changed[:limit]],
    }


def _show_diff(title: str, changes: ListDiff) -> None:
    body = _diff_json(changes, SHOWN)
    counts = body["counts"]
    out.print(
        f"[bold]{escape(title)}[/]: {counts['added']} added, {counts['removed']} removed, "
        f"{counts['changed']} changed"
    )
    for kind in ("added", "removed", "changed"):
        if body[kind]:
            more = counts[kind] - len(body[kind])
            suffix = f" (first {SHOWN} of {counts[kind]})" if more else ""
            show(rows_table(f"{kind}{suffix}", body[kind]))


@lists_app.command("load")
def lists_load(
    source: SourceArg,
    origin: Annotated[
        list[str] | None,
        typer.Argument(
            help="The publication: a file, or URLs to download it from (default: the official "
            "publication URLs); for ofac_cons the directory holding "
            "*cons_prim/alt/add/comments.csv, or those four files or URLs.",
            show_default=False,
        ),
    ] = None,
    published: Annotated[
        str | None,
        typer.Option(
            "--published",
            help="YYYY-MM-DD (default: the date in the file name, else the file's date, or a "
            "download's Last-Modified date; the UN XML states its own).",
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Put it in force even if it has no entries or removes more than "
            f"{MAX_REMOVED_PERCENT}% of the entries in force, or of their aliases, identifiers "
            "or countries (needs --reason; journaled as ForceListVersion).",
        ),
    ] = False,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why the load is forced (with --force).")
    ] = None,
    as_json: JsonOpt = False,
    data_dir: ListsDirOpt = Path("data"),
) -> None:
    """Load a publication as a new version and put it in force; print what it changed. A
    version with no entries, or removing an unusual share of what is in force (see --force), is
    refused unless forced with a reason."""
    from bourse.workers.list_fetch import fetch_and_load, is_url  # httpx: only when loading

    given = origin or []
    urls = [o for o in given if is_url(o)]
    if urls and len(urls) != len(given):
        fail("give files or URLs, not both")
    reason = (reason or "").strip()
    if force != bool(reason):
        fail(
            "--force needs --reason, saying why the list shrank"
            if force
            else "--reason goes with --force"
        )
    _source(source)
    if published is not None:
        _not_after_today(published)
    store = _store(data_dir, create=True)
    forcing = _forcing(data_dir, reason) if force else None
    where = ", ".join(given) if given else "its official URL"
    try:
        with err.status(f"reading {source} from {where}"):
            if urls or not given:
                result = fetch_and_load(store, source, urls or None, published, force=forcing)
            else:
                paths = [Path(o) for o in given]
                result = store.load(source, paths, published, force=forcing)
    except ListFormatError as exc:
        in_force = store.in_force(source)
        kept = f"; {in_force.file} stays in force" if in_force else ""
        fail(f"refused: {exc}{kept}", code=1)
    except ListShrinkRefused as exc:
        fail(
            f"{exc}. If {source} really shrank, load it again with --force --reason '...' "
            "(journaled)",
            code=1,
        )
    except ListSourceError as exc:
        fail(str(exc))
    info = store.in_force(source)
    forced = info is not None and info.sha256 == result.version.content_sha256 and info.forced_by
    body: dict[str, Any] = {
        "version": _summary(result.version),
        "alreadyCurrent": result.already_current,
        "previous": _summary(result.previous) if result.previous else None,
        "unresolvedCountries": sum(result.unresolved_countries.values()),
        "diff": _diff_json(result.diff, None if as_json else SHOWN),
        "forced": _forced_json(info) if forced and info else None,
        "rescreen": None if result.already_current else _rescreen_on_server(data_dir),
    }
    if as_json:
        print_json(body)
        return
    if result.already_current:
        out.print(
            f"{source} {result.version.published} ({result.version.content_sha256[:12]}) is "
            "already in force: nothing changed"
        )
        return
    show(record_table(f"{source}: new version in force", body["version"]))
    if body["forced"]:
        out.print(
            f"[bold yellow]forced[/] by {escape(body['forced']['by'])} (journal seq "
            f"{body['forced']['seq']}): {escape(body['forced']['reason'])}"
        )
    if body["unresolvedCountries"]:
        out.print(f"{body['unresolvedCountries']} country names resolved to no ISO code")
    prior = result.previous
    against = f"{prior.published} ({prior.content_sha256[:12]})" if prior else "no version"
    _show_diff(f"against {against}", result.diff)
    report = body["rescreen"]
    if report is None:
        out.print(
            "no server runs on this data directory: run `bourse alerts rescreen` once one does"
        )
    else:
        out.print(
            f"the running server rescreened {report['screened']} customers "
            f"({report['mode']}, against {report['entriesScreened']} entries): "
            f"{len(report['alertsRaised'])} alert(s) raised for review (bourse alerts list)"
        )


def _rescreen_on_server(data_dir: Path) -> dict[str, Any] | None:
    """A new version must reach the customers at once: where a server runs on this data
    directory, ask it to rescreen everyone (and to block the version's crypto addresses)."""
    if DataDir(data_dir).server_url() is None:
        return None
    report: dict[str, Any] = AdminClient(data_dir, None, None).call(
        "POST", "/screening/rescreen", timeout=600
    )
    return report


def _forced_json(info: VersionInfo) -> dict[str, Any]:
    return {"by": info.forced_by, "reason": info.reason, "seq": info.journal_seq}


def _info_row(info: VersionInfo, in_force: bool, full: bool) -> dict[str, Any]:
    row: dict[str, Any] = {
        "source": info.source,
        "published": info.published,
        "sha": info.sha256 if full else info.sha256[:12],
        "entries": info.entries,
        "loadedAt": info.loaded_at if full else info.loaded_at[:16].replace("T", " "),
        "inForce": in_force if full else ("yes" if in_force else ""),
    }
    if full:  # the table leaves these out to fit a terminal (a forced one's reason follows it)
        row["origin"] = info.origin
        row["forced"] = _forced_json(info) if info.forced_by else None
    return row


@lists_app.command("refresh")
def lists_refresh(
    url: Annotated[
        list[str] | None,
        typer.Option(
            "--url",
            help="SOURCE=URL[,URL...]: download a list from a mirror instead of its official "
            "URL (ofac_cons: four URLs). Repeatable.",
        ),
    ] = None,
    as_json: JsonOpt = False,
    data_dir: ListsDirOpt = Path("data"),
) -> None:
    """Download every list and put changed ones in force (what `bourse run --refresh-lists`
    does on a schedule); a running server then rescreens. Exits 1 if any list failed or was
    refused (no entries, or removing an unusual share of what is in force: force one with
    `bourse lists load SOURCE --force --reason`)."""
    from bourse.workers.list_fetch import fetch_and_load, mirror_urls  # httpx: only when loading

    store = _store(data_dir, create=True)
    try:
        mirrors = mirror_urls(url or [])
    except ListSourceError as exc:
        fail(str(exc))
    results: list[dict[str, Any]] = []
    for source in SOURCES:
        row: dict[str, Any] = {"source": source, "status": "failed", "sha256": ""}
        try:
            with err.status(f"downloading {source}"):
                loaded = fetch_and_load(store, source, mirrors.get(source))
        except (ListFormatError, ListSourceError, ListShrinkRefused) as exc:
            status = "refused" if isinstance(exc, ListShrinkRefused) else "failed"
            counts = {"added": 0, "removed": 0, "changed": 0}
            results.append({**row, "status": status, **counts, "problem": str(exc)})
            continue
        row["status"] = "unchanged" if loaded.already_current else "loaded"
        row["sha256"] = loaded.version.content_sha256
        results.append({**row, **_diff_json(loaded.diff, 0)["counts"], "problem": ""})
    changed = any(r["status"] == "loaded" for r in results)
    report = _rescreen_on_server(data_dir) if changed else None
    if as_json:
        print_json({"results": results, "rescreen": report})
    else:
        show(rows_table("lists refreshed", results))
        if report:
            out.print(
                f"the running server rescreened {report['screened']} customers "
                f"({report['mode']}): {len(report['alertsRaised'])} alert(s) raised"
            )
    if any(r["status"] in ("failed", "refused") for r in results):
        raise typer.Exit(code=1)


@lists_app.command("threshold")
def lists_threshold(
    value: Annotated[
        float | None,
        typer.Argument(
            help="A new review threshold in [0.5, 1]; omit to show it.", show_default=False
        ),
    ] = None,
    as_json: JsonOpt = False,
    data_dir: ListsDirOpt = Path("data"),
) -> None:
    """The score at which a screening hit opens an alert for review (default 0.70). Lower finds
    more spelling variants and raises more false alerts; higher the reverse (see README). A new
    threshold makes the next rescreen screen everyone against the whole index."""
    store = _store(data_dir, create=value is not None)
    before = store.review_threshold()
    if value is not None:
        try:
            store.set_review_threshold(value)
        except ListSourceError as exc:
            fail(str(exc))
    now = store.review_threshold()
    if as_json:
        print_json({"reviewThreshold": f"{now:.2f}", "previous": f"{before:.2f}"})
    elif value is None:
        out.print(f"review threshold {now:.2f}")
    else:
        out.print(
            f"review threshold {before:.2f} -> {now:.2f}: the next rescreen (bourse alerts "
            "rescreen) screens everyone against the whole index"
        )


@lists_app.command("show")
def lists_show(
    source: Annotated[str | None, typer.Argument(help="One list (default: all).")] = None,
    every: Annotated[
        bool, typer.Option("--all", help="Every version loaded, not just those in force.")
    ] = False,
    as_json: JsonOpt = False,
    data_dir: ListsDirOpt = Path("data"),
) -> None:
    """The versions in force (with --all, every version put in force, oldest first): when each
    was loaded, from where, whether an operator forced it and why, and the last publication the
    guard refused since, which is why it is not in force."""
    store = _store(data_dir)
    rows = []
    notes = []
    for name in [_source(source)] if source else SOURCES:
        history = store.versions(name)
        refused = store.refused(name)
        for n, info in enumerate(history):
            last = n == len(history) - 1
            if every or last:
                rows.append(_info_row(info, last, as_json))
            if info.forced_by and (every or last):
                notes.append(
                    f"{name} {info.published} ({info.sha256[:12]}) [bold yellow]forced[/] by "
                    f"{escape(info.forced_by)} (journal seq {info.journal_seq}): "
                    f"{escape(info.reason)}"
                )
        if as_json and history:
            rows[-1]["refused"] = msgspec.to_builtins(refused) if refused else None
        if refused is not None:
            notes.append(
                f"[bold red]not in force[/]: {escape(refused.problem)} (at "
                f"{refused.refused_at}, from {escape(refused.origin)})"
            )
    if as_json:
        print_json(rows)
        return
    if rows:
        show(rows_table("sanctions list versions", rows))
    else:
        out.print("no sanctions lists loaded: `bourse lists load SOURCE PATH`")
    for note in notes:
        out.print(note)


@lists_app.command("diff")
def lists_diff(
    source: SourceArg,
    from_sha: Annotated[
        str | None,
        typer.Option(
            "--from", help="Hash (prefix) of the older version (default: the one before --to)."
        ),
    ] = None,
    to_sha: Annotated[
        str | None,
        typer.Option("--to", help="Hash (prefix) of the newer version (default: in force)."),
    ] = None,
    as_json: JsonOpt = False,
    data_dir: ListsDirOpt = Path("data"),
) -> None:
    """What one version adds, removes and changes relative to another."""
    store = _store(data_dir)
    history = store.versions(_source(source))
    if not history:
        fail(f"no {source} version loaded")
    try:
        to = store.find(source, to_sha) if to_sha else history[-1]
        if from_sha:
            old: VersionInfo | None = store.find(source, from_sha)
        else:
            at = max(i for i, v in enumerate(history) if v.file == to.file)
            old = history[at - 1] if at > 0 else None
    except ListSourceError as exc:
        fail(str(exc))
    changes = diff(store.read(source, old.file) if old else None, store.read(source, to.file))
    body = {
        "source": source,
        "from": old.sha256 if old else None,
        "to": to.sha256,
        **_diff_json(changes, None if as_json else SHOWN),
    }
    if as_json:
        print_json(body)
        return
    before = f"{old.published} ({old.sha256[:12]})" if old else "nothing"
    _show_diff(f"{source} {before} → {to.published} ({to.sha256[:12]})", changes)
