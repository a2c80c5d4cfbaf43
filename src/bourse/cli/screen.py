"""`bourse screen`: a name (or a CSV of names) against the sanctions lists in force.

The lists are plain files in the data directory, so screening works without a server. When a
server runs on the data directory (or --url is given), the query goes to its admin route
`POST /admin/v1/screen` instead, which keeps the index built between calls; the output is the
same either way and always says which list versions were used.
"""

import csv
import io
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from bourse.cli.common import print_json, rows_table, show
from bourse.cli.console import err, fail, out
from bourse.cli.operator import JsonOpt, TokenOpt, UrlOpt, error_message
from bourse.compliance.sanctions.entries import SCHEMAS
from bourse.server.datadir import DataDir

# The matcher (workers.screening and what it imports) takes ~0.5 s to import: only `bourse
# screen` itself loads it, so that every other command and --help start fast.
if TYPE_CHECKING:
    from bourse.compliance.sanctions.matching.screen import Query

CHUNK = 200  # CSV rows per request to a server: a progress step without a request per row
MAX_FILE_BYTES = 256 * 1024 * 1024  # far more names than one run screens in minutes


# ---- where the screening runs: this process, or the server's admin route ----------------------

# (lists used, hits per query, the threshold applied as text)
Screened = tuple[list[dict[str, Any]], list[list[dict[str, Any]]], str]
Screen = Callable[[list["Query"]], Screened]


def _local(data_dir: Path, threshold: float | None, limit: int) -> Screen:
    from bourse.compliance.sanctions.versions import ListStore
    from bourse.workers.screening import NO_LISTS, Screener, in_force, list_json

    store = ListStore(data_dir)
    lists = in_force(store)
    if not lists:
        fail(NO_LISTS)
    with err.status(f"indexing {', '.join(f'{v.source} {v.published}' for v in lists)}"):
        screener = Screener.build(store, lists)
    used = [list_json(v) for v in screener.lists]
    at = threshold or screener.threshold  # default: the data directory's review threshold
    return lambda queries: (used, [screener.run(q, at, limit) for q in queries], f"{at:.2f}")


def _remote(url: str, token: str, threshold: float | None, limit: int) -> Screen:
    import httpx

    from bourse.workers.screening import query_json

    headers = {"Authorization": f"Bearer {token}"}

    def call(queries: list["Query"]) -> Screened:
        body = {"queries": [query_json(q) for q in queries], "limit": limit}
        if threshold is not None:  # else the server's review threshold
            body["threshold"] = threshold
        try:
            response = httpx.post(f"{url}/admin/v1/screen", json=body, headers=headers, timeout=120)
            answer = response.json()
        except httpx.HTTPError as exc:
            fail(f"cannot reach the server at {url}: {exc}")
        except ValueError:
            answer = None
        if response.status_code != 200 or not isinstance(answer, dict):
            msg = error_message(answer)
            fail(msg or f"the server answered HTTP {response.status_code}: {response.text}")
        return answer["lists"], [r["hits"] for r in answer["results"]], answer["threshold"]

    return call


def _screener(
    data_dir: Path, url: str | None, token: str | None, threshold: float | None, limit: int
) -> Screen:
    dd = DataDir(data_dir)
    url = url or dd.server_url()
    if url is None:
        # A mistyped --data-dir must not look like "no lists loaded".
        if not data_dir.is_dir():
            fail(f"no data directory at {data_dir.absolute()}: pass --data-dir of a bourse server")
        return _local(data_dir, threshold, limit)
    token = token or dd.existing_operator_token()
    if token is None:
        fail(f"no operator token in {dd.token_file}: pass --token")
    return _remote(url.rstrip("/"), token, threshold, limit)


# ---- the command ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    line: int
    query: "Query"


def read_rows(path: Path) -> list[Row]:
    """The CSV's rows as queries (columns name, optional dob and country); exits 2 naming the
    line at fault, before any screening."""
    from bourse.workers.screening import QueryError, make_query

    try:
        size = path.stat().st_size
        if not path.is_file():  # a device such as /dev/zero would be read for ever
            fail(f"{path} is not a file")
        if size > MAX_FILE_BYTES:
            fail(f"{path} is {size:,} bytes; at most {MAX_FILE_BYTES:,} are screened in one run")
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror or exc}")
    except UnicodeDecodeError as exc:
        fail(f"{path} is not UTF-8: {exc}")
    # strict: a quote never closed would otherwise swallow every line after it into one name,
    # and the parties on those lines would go unscreened without a word
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    rows = []
    try:
        columns = [c.strip().lower() for c in reader.fieldnames or []]
        if "name" not in columns:
            fail(f"{path}: line 1 has no 'name' column (columns: name, optional dob, country)")
        if len(set(columns)) != len(columns):
            fail(f"{path}: line 1 names a column twice: {', '.join(columns)}")
        reader.fieldnames = columns
        for record in reader:
            if None in record:
                fail(f"{path}: line {reader.line_num} has more fields than the header")
            values: Mapping[str, str | None] = record
            try:
                query = make_query(
                    values.get("name") or "", values.get("dob") or "", values.get("country") or ""
                )
            except QueryError as exc:
                fail(f"{path}: line {reader.line_num}: {exc}")
            rows.append(Row(reader.line_num, query))
    except csv.Error as exc:  # the row that failed starts after the last line read
        fail(f"{path}: line {reader.line_num + 1}: {exc} (a quote that is never closed?)")
    return rows


def _chunks(rows: list[Row]) -> Iterator[list[Row]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def _print_lists(lists: list[dict[str, Any]]) -> None:
    used = ", ".join(f"{v['source']} {v['published']} ({v['sha256'][:12]})" for v in lists)
    out.print(f"lists: {escape(used)}")


def _hit_row(hit: dict[str, Any]) -> dict[str, Any]:
    keys = ("score", "source", "entryId", "listedName", "schema", "explanation")
    return {k: hit[k] for k in keys}


def screen_command(
    name: Annotated[str | None, typer.Argument(help="The name to screen.")] = None,
    dob: Annotated[
        str, typer.Option("--dob", help="Date of birth: YYYY, YYYY-MM or YYYY-MM-DD.")
    ] = "",
    country: Annotated[str, typer.Option("--country", help="ISO 3166-1 alpha-2 code.")] = "",
    schema: Annotated[
        str, typer.Option("--schema", help=f"One of {', '.join(SCHEMAS)} (default: any).")
    ] = "",
    ids: Annotated[
        list[str] | None,
        typer.Option(
            "--id", help="An identifier matched exactly: BIC, crypto address, passport (repeat)."
        ),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file", help="A CSV of names to screen: columns name, optional dob, country."
        ),
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            "--threshold",
            help="Lowest score reported (default: the review threshold, bourse lists threshold).",
            show_default=False,
        ),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Hits per name, best first.")] = 10,
    as_json: JsonOpt = False,
    jsonl: Annotated[
        bool, typer.Option("--jsonl", help="With --file: one JSON line per row, then a summary.")
    ] = False,
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="The data directory whose lists to screen against.")
    ] = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Screen a name, identifiers or a CSV of names against the sanctions lists in force."""
    from bourse.workers.screening import QueryError, check_options, make_query, query_json

    if problem := check_options(threshold, limit):
        fail(problem)
    if jsonl and file is None:
        fail("--jsonl goes with --file (one JSON line per row of the CSV)")
    if file is not None:
        if name or dob or country or schema or ids:
            fail("--file takes its names, dates of birth and countries from the CSV")
        rows = read_rows(file)
        run = _screener(data_dir, url, token, threshold, limit)
        _screen_file(file, rows, run, as_json, jsonl)
        return
    try:
        query = make_query(name or "", dob, country, schema, ids or ())
    except QueryError as exc:
        fail(str(exc))
    run = _screener(data_dir, url, token, threshold, limit)
    lists, (hits,), at = run([query])
    if as_json:
        print_json({"query": query_json(query), "lists": lists, "hits": hits})
        return
    _print_lists(lists)
    if hits:
        show(rows_table(f"{len(hits)} hit(s) for {query.name or ', '.join(query.identifiers)}",
                        [_hit_row(h) for h in hits]))  # fmt: skip
    else:
        out.print(f"no hits at or above {at}")


def _screen_file(path: Path, rows: list[Row], run: Screen, as_json: bool, jsonl: bool) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from bourse.workers.screening import query_json

    results: list[dict[str, Any]] = []
    lists: list[dict[str, Any]] = []
    with Progress(
        TextColumn("[bold]screening"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("screening", total=len(rows))
        for chunk in _chunks(rows):
            lists, hits, _ = run([r.query for r in chunk])
            for row, row_hits in zip(chunk, hits, strict=True):
                result = {"line": row.line, "query": query_json(row.query), "hits": row_hits}
                results.append(result)
                if jsonl:
                    print_json(result)
            progress.advance(task, len(chunk))
    summary = {
        "file": str(path),
        "rows": len(results),
        "rowsWithHits": sum(1 for r in results if r["hits"]),
        "hits": sum(len(r["hits"]) for r in results),
    }
    if jsonl:
        print_json({"summary": summary, "lists": lists})
    elif as_json:
        print_json({"lists": lists, "rows": results, "summary": summary})
    else:
        if lists:
            _print_lists(lists)
        table = [
            {"line": r["line"], "name": r["query"]["name"], **_best(r["hits"])} for r in results
        ]
        if table:
            show(rows_table("best hit per row", table))
        out.print(
            f"{summary['rows']} rows, {summary['rowsWithHits']} with hits "
            f"({summary['hits']} hits in all)"
        )


def _best(hits: list[dict[str, Any]]) -> dict[str, Any]:
    if not hits:
        return {"score": "", "source": "", "entryId": "", "listedName": "none"}
    best = hits[0]
    return {k: best[k] for k in ("score", "source", "entryId", "listedName")}
