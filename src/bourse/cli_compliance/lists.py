"""`bourse lists load|show|diff`: sanctions list versions, in the data directory itself.

Like `bourse staff`, these work with or without a running server: versions are plain files beside
the journal. A malformed publication exits 1 naming the line or element at fault, and the version
in force stays; a command that could not run (no such file, bad option) exits 2.
"""

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from bourse.cli_compliance.common import print_json, record_table, rows_table, show
from bourse.compliance.sanctions.entries import ListEntry, ListFormatError, ListVersion
from bourse.operator_cli import AdminClient, JsonOpt, err, fail, out
from bourse.runtime.datadir import DataDir
from bourse.runtime.sanctions_lists import (
    SOURCES,
    ListDiff,
    ListSourceError,
    ListStore,
    VersionInfo,
    diff,
)

lists_app = typer.Typer(
    help="Sanctions lists (OFAC SDN, OFAC consolidated, UN), in the data directory.",
    no_args_is_help=True,
)

ListsDirOpt = Annotated[
    Path, typer.Option("--data-dir", help="The data directory whose lists to manage.")
]
SourceArg = Annotated[str, typer.Argument(help=f"The list: {', '.join(SOURCES)}.")]
SHOWN = 10  # entries of each kind printed (--json prints them all)


def _store(data_dir: Path) -> ListStore:
    # A mistyped --data-dir must not quietly start a second exchange's lists.
    if not data_dir.is_dir():
        fail(f"no data directory at {data_dir.absolute()}: pass --data-dir of a bourse server")
    return ListStore(data_dir)


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
    as_json: JsonOpt = False,
    data_dir: ListsDirOpt = Path("data"),
) -> None:
    """Load a publication as a new version and put it in force; print what it changed."""
    from bourse.runtime.list_fetch import fetch_and_load, is_url  # httpx: only when loading

    store = _store(data_dir)
    given = origin or []
    urls = [o for o in given if is_url(o)]
    if urls and len(urls) != len(given):
        fail("give files or URLs, not both")
    where = ", ".join(given) if given else "its official URL"
    try:
        with err.status(f"reading {source} from {where}"):
            if urls or not given:
                result = fetch_and_load(store, _source(source), urls or None, published)
            else:
                result = store.load(_source(source), [Path(o) for o in given], published)
    except ListFormatError as exc:
        in_force = store.in_force(source)
        kept = f"; {in_force.file} stays in force" if in_force else ""
        fail(f"refused: {exc}{kept}", code=1)
    except ListSourceError as exc:
        fail(str(exc))
    body: dict[str, Any] = {
        "version": _summary(result.version),
        "alreadyCurrent": result.already_current,
        "previous": _summary(result.previous) if result.previous else None,
        "unresolvedCountries": sum(result.unresolved_countries.values()),
        "diff": _diff_json(result.diff, None if as_json else SHOWN),
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


def _info_row(info: VersionInfo, in_force: bool, full: bool) -> dict[str, Any]:
    row: dict[str, Any] = {
        "source": info.source,
        "published": info.published,
        "sha": info.sha256 if full else info.sha256[:12],
        "entries": info.entries,
        "loadedAt": info.loaded_at if full else info.loaded_at[:16].replace("T", " "),
        "inForce": in_force if full else ("yes" if in_force else ""),
    }
    if full:  # the table leaves the origin out to fit a terminal
        row["origin"] = info.origin
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
    does on a schedule); a running server then rescreens. Exits 1 if any list failed."""
    from bourse.runtime.list_fetch import fetch_and_load, mirror_urls  # httpx: only when loading

    store = _store(data_dir)
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
        except (ListFormatError, ListSourceError) as exc:
            results.append({**row, "added": 0, "removed": 0, "changed": 0, "problem": str(exc)})
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
    if any(r["status"] == "failed" for r in results):
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
    store = _store(data_dir)
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
    """The versions in force (with --all, every version put in force, oldest first)."""
    store = _store(data_dir)
    rows = []
    for name in [_source(source)] if source else SOURCES:
        history = store.versions(name)
        for n, info in enumerate(history):
            last = n == len(history) - 1
            if every or last:
                rows.append(_info_row(info, last, as_json))
    if as_json:
        print_json(rows)
    elif rows:
        show(rows_table("sanctions list versions", rows))
    else:
        out.print("no sanctions lists loaded: `bourse lists load SOURCE PATH`")


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
