"""`bourse bench ...`: benchmarks that print JSON (measured, never asserted)."""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bourse.cli.console import fail, progress_bar

bench_app = typer.Typer(
    help="Benchmarks that print JSON (measured, never asserted).", no_args_is_help=True
)


CommandsOpt = Annotated[int, typer.Option("--commands", min=1, help="Flow commands to measure.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print only the JSON result.")]
BenchUrlOpt = Annotated[
    str | None, typer.Option("--url", help="A running server (default: start one).")
]
BenchTokenOpt = Annotated[
    str | None, typer.Option("--token", help="That server's operator token (with --url).")
]


def _server_problem(url: str | None, exc: Exception) -> str:
    """One line on why the bench could not use a server (--url's, or the one it started)."""
    import errno
    import resource

    import httpx

    if isinstance(exc, OSError) and exc.errno == errno.EMFILE:  # the bench's own connections
        limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        return (
            f"the bench ran out of file descriptors ({limit} here, `ulimit -n`): "
            "ask for fewer connections or subscribers"
        )
    where = f"the server at {url}" if url else "the bench's server"
    if isinstance(exc, httpx.HTTPStatusError):
        status, request = exc.response.status_code, exc.request
        hint = " (is --token that server's operator token?)" if status in (401, 403) else ""
        return f"{where} answered HTTP {status} to {request.method} {request.url.path}{hint}"
    return f"cannot reach {where}: {exc}"


@bench_app.command("engine")
def bench_engine(commands: CommandsOpt = 200_000, as_json: JsonOpt = False) -> None:
    """The mixed flow through the full engine path in memory."""
    from bourse.bench import engine_bench

    with progress_bar("engine bench", commands) as advance:
        result = engine_bench.run(commands, progress=advance)
    print(json.dumps(result))


@bench_app.command("journal")
def bench_journal(
    commands: CommandsOpt = 200_000,
    as_json: JsonOpt = False,
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Where to put the temporary journal.")
    ] = None,
    batch: Annotated[
        int,
        typer.Option("--batch", min=1, help="Commands sequenced before waiting for durability."),
    ] = 128,
    writer: Annotated[
        str, typer.Option("--writer", help="Commit mode: inline (in flush) or thread.")
    ] = "inline",
    journals: Annotated[
        list[str] | None,
        typer.Option(
            "--journal",
            help="Also on NATS JetStream: nats://host:4222[,...]/PREFIX[?replicas=3] (a new "
            "stream PREFIX_<random>, deleted after), beside the file journal. Repeatable.",
        ),
    ] = None,
) -> None:
    """The same flow journaled with fsync group commit, acknowledged when durable; with
    --journal, on NATS JetStream too, each with its ratio to the file journal of this run."""
    from bourse.bench import journal_bench
    from bourse.journal.nats_address import parse_nats_url

    if writer not in ("inline", "thread"):
        fail(f"--writer must be inline or thread, not {writer!r}")
    for url in journals or []:
        try:
            parse_nats_url(url)
        except ValueError as exc:
            fail(f"--journal: {exc}")
    with progress_bar("journal bench", commands) as advance:
        result = journal_bench.run(
            commands,
            str(directory) if directory else None,
            batch=batch,
            writer=writer,
            progress=advance,
        )
    if not journals:
        print(json.dumps(result))
        return
    on_nats = []
    for url in journals:
        with progress_bar(f"journal bench on {url}", commands) as advance:
            got = journal_bench.run_nats(url, commands, batch=batch, progress=advance)
        got["ratio_to_file"] = round(got["commands_per_s"] / result["commands_per_s"], 3)
        on_nats.append(got)
    print(json.dumps({"file": result, "nats": on_nats}))


@bench_app.command("failover")
def bench_failover(
    journal: Annotated[
        str,
        typer.Option(
            "--journal",
            help="NATS servers and stream prefix: nats://host:4222[,...]/PREFIX[?replicas=3] "
            "(a new stream PREFIX_<random> per run).",
        ),
    ],
    traders: Annotated[int, typer.Option("--traders", help="Clients placing orders.")] = 4,
    as_json: JsonOpt = False,
) -> None:
    """Kill -9 the writing engine under load: seconds until the standby acknowledges an order,
    and acknowledged orders lost."""
    from bourse.bench import failover_bench
    from bourse.journal.nats_address import parse_nats_url

    try:
        parse_nats_url(journal)
    except ValueError as exc:
        fail(f"--journal: {exc}")
    print(json.dumps(failover_bench.run(journal, traders=traders)))


@bench_app.command("api")
def bench_api(
    orders: Annotated[int, typer.Option("--orders", min=1, help="Signed orders to send.")] = 20_000,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, help="Keep-alive connections sending at once.")
    ] = 16,
    accounts: Annotated[
        int, typer.Option("--accounts", min=1, help="Trading accounts to use.")
    ] = 16,
    processes: Annotated[
        int,
        typer.Option(
            "--processes", min=1, help="Load-generating processes sharing the connections."
        ),
    ] = 1,
    no_ceiling: Annotated[
        bool,
        typer.Option(
            "--no-ceiling",
            help="Skip the bare signed endpoint measured before and after bourse (the ceiling).",
        ),
    ] = False,
    gateways: Annotated[
        int | None,
        typer.Option(
            "--gateways",
            help="Passed to `bourse run --gateways` (0: one process); as many processes serve "
            "the ceiling.",
        ),
    ] = None,
    url: BenchUrlOpt = None,
    token: BenchTokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Signed POST /api/v3/order over loopback, half of the orders crossing; with the ceiling of
    a bare signed endpoint under the same server in the same run (not with --url)."""
    from bourse.bench import api_bench

    if url is not None and token is None:
        fail("--url needs --token: the bench opens funded accounts through the admin API")
    runs = 1 if no_ceiling or url is not None else 3  # bare, bourse, bare
    import httpx

    try:
        with progress_bar("api bench", orders * runs) as advance:
            result = api_bench.run(
                orders=orders,
                concurrency=concurrency,
                accounts=accounts,
                url=url,
                token=token,
                processes=processes,
                progress=advance,
                ceiling=not no_ceiling,
                gateways=gateways,
            )
    except (ValueError, api_bench.ServerFailed) as exc:
        fail(str(exc))
    except (httpx.HTTPError, OSError) as exc:
        fail(_server_problem(url, exc))
    print(json.dumps(result.as_dict()))


@bench_app.command("ws")
def bench_ws(
    orders: Annotated[int, typer.Option("--orders", help="Signed order.place requests.")] = 50_000,
    connections: Annotated[
        int, typer.Option("--connections", help="WebSocket API connections, one account each.")
    ] = 16,
    processes: Annotated[
        int, typer.Option("--processes", help="Load processes sharing those connections.")
    ] = 2,
    window: Annotated[int, typer.Option("--window", help="Requests in flight per connection.")] = 4,
    subscribers: Annotated[
        int, typer.Option("--subscribers", min=0, help="Market-data stream connections listening.")
    ] = 100,
    subscriber_processes: Annotated[
        int,
        typer.Option("--subscriber-processes", min=1, help="Processes holding the subscribers."),
    ] = 2,
    rate: Annotated[
        float, typer.Option("--rate", help="Orders per second in all (0: as fast as answered).")
    ] = 0.0,
    find_rate: Annotated[
        bool,
        typer.Option(
            "--find-rate",
            help="Then search (a few short runs) the highest rate whose stream lag p99 stays "
            "under --lag-target-ms.",
        ),
    ] = False,
    lag_target_ms: Annotated[
        float, typer.Option("--lag-target-ms", help="The stream lag p99 --find-rate keeps under.")
    ] = 50.0,
    gateways: Annotated[
        int | None,
        typer.Option(
            "--gateways",
            help="Passed to `bourse run --gateways` (0: one process); with 1 or more, the "
            "streams are served on a port of their own (--stream-port), where the subscribers "
            "connect.",
        ),
    ] = None,
    stream_url: Annotated[
        str | None,
        typer.Option("--stream-url", help="With --url: where the server's streams are served."),
    ] = None,
    url: BenchUrlOpt = None,
    token: BenchTokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Orders over the WebSocket API while market-data subscribers listen: rate, latency, lag."""
    import httpx

    from bourse.bench import api_bench, ws_bench

    if url is not None and token is None:
        fail("--url needs --token: the bench opens funded accounts through the admin API")
    try:
        with progress_bar("ws bench", orders) as advance:
            result = ws_bench.run(
                orders=orders,
                connections=connections,
                processes=processes,
                window=window,
                subscribers=subscribers,
                subscriber_processes=subscriber_processes,
                url=url,
                token=token,
                rate=rate,
                progress=advance,
                find_rate=find_rate,
                lag_target_ms=lag_target_ms,
                gateways=gateways,
                stream_url=stream_url,
            )
    except (ValueError, api_bench.ServerFailed) as exc:
        fail(str(exc))
    except (httpx.HTTPError, OSError) as exc:
        fail(_server_problem(url, exc))
    print(json.dumps(result))


@bench_app.command("policy")
def bench_policy(
    accounts: Annotated[
        int, typer.Option("--accounts", help="Customers to onboard (one account each).")
    ] = 1_000_000,
    affected_share: Annotated[
        float, typer.Option("--affected-share", help="Fraction of them in the suspended country.")
    ] = 0.10,
    flow_between: Annotated[
        int, typer.Option("--flow-between", help="Flow orders between two sweep batches.")
    ] = 20,
    sweep_batch: Annotated[
        int, typer.Option("--sweep-batch", help="Customers per sweep batch.")
    ] = 1000,
    as_json: JsonOpt = False,
) -> None:
    """Preview and apply a trading suspension for one country while others keep trading."""
    from rich.table import Table

    from bourse.bench import policy_bench

    try:
        result = policy_bench.run(
            accounts, affected_share, flow_between, sweep_batch, progress=progress_bar
        )
    except ValueError as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(result))
        return
    table = Table(title=f"bench policy: {accounts:,} customers")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in result.items():
        table.add_row(key, str(value))
    Console().print(table)


@bench_app.command("banks")
def bench_banks(
    customers: Annotated[
        int, typer.Option("--customers", help="Customers, each with a bank account.")
    ] = 1_000_000,
    statement_lines: Annotated[
        int, typer.Option("--statement-lines", help="Credit lines in the statement reconciled.")
    ] = 100_000,
    pending: Annotated[
        int, typer.Option("--pending", help="Pending fiat withdrawals (half in VTB's file).")
    ] = 10_000,
    as_json: JsonOpt = False,
) -> None:
    """Reconcile a long camt.053 statement, and preview and apply a bank's cut-off among many
    customers, each beside a reference measured in the same run."""
    from rich.table import Table

    from bourse.bench import banks_bench

    try:
        result = banks_bench.run(customers, statement_lines, pending, progress=progress_bar)
    except ValueError as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(result))
        return
    table = Table(title=f"bench banks: {customers:,} customers")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in result.items():
        table.add_row(key, str(value))
    Console().print(table)


@bench_app.command("screening")
def bench_screening(
    customers: Annotated[
        int, typer.Option("--customers", help="Synthetic customers to rescreen (at most 50,000).")
    ] = 50_000,
    peer: Annotated[
        str | None,
        typer.Option(
            "--peer",
            help="Also score a peer matcher on the same pairs: logic-v2 (OpenSanctions' "
            "nomenklatura; needs `pip install nomenklatura`).",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Sanctions matcher quality on the labelled sets, alert rate, rescreen speed and latency."""
    from bourse.bench import screening_bench

    try:
        result = screening_bench.run(customers, peer, progress=progress_bar)
    except ValueError as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(result))
        return
    Console().print(screening_bench.table(result))


@bench_app.command("console")
def bench_console(
    accounts: Annotated[
        int, typer.Option("--accounts", help="Customers (each with an account) in the store.")
    ] = 1_000_000,
    alerts: Annotated[int, typer.Option("--alerts", help="Open screening alerts.")] = 200,
    requests: Annotated[int, typer.Option("--requests", help="Fetches of each page.")] = 50,
) -> None:
    """p95 page times of the console's dashboard, alert queue and customer page on a store of
    `accounts` customers, through a real server, as JSON (target: under 300 ms each)."""
    from bourse.bench import console_bench

    try:
        with (
            progress_bar("building the store", accounts) as built,
            progress_bar("fetching pages", requests * 4) as fetched,
        ):
            result = console_bench.run(accounts, alerts, requests, built, fetched)
    except (ValueError, RuntimeError) as exc:
        fail(str(exc))
    print(json.dumps(result))


@bench_app.command("audit")
def bench_audit(
    commands: CommandsOpt = 1_000_000,
    as_json: JsonOpt = False,
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Where the bench's journals and logs go.")
    ] = None,
    pairs: Annotated[
        int, typer.Option("--pairs", min=1, help="Rounds of runs without and with the log.")
    ] = 2,
) -> None:
    """What keeping the audit log beside the engine costs (engine commands/s without and with
    it, alternating, in one run; and beside a process that only burns CPU, for reference),
    inclusion proof times at that size, and exporting and verifying the whole log as one
    bundle, as JSON (targets: under 5 % slower, p99 under 5 ms, verify under 60 s at
    1,000,000)."""
    from bourse.bench import audit_bench

    where = None if directory is None else str(directory)
    with progress_bar("audit bench", 3 * pairs + 2) as advance:
        result = audit_bench.run(commands, where, advance, pairs)
    print(json.dumps(result))
