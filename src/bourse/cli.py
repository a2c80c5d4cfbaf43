"""The `bourse` command line: run, replay, snapshot, bench; accounts and keys (operator_cli);
staff, customers, venues, policies, sanctions lists and alerts (cli_compliance)."""

import json
import logging
import signal
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from bourse.cli_compliance import (
    customers_app,
    policy_app,
    staff_app,
    venues_app,
    withdraw_on_request,
)
from bourse.cli_compliance.alerts import alerts_app
from bourse.cli_compliance.lists import lists_app
from bourse.cli_compliance.prices import prices_app
from bourse.cli_compliance.screen import screen_command
from bourse.operator_cli import accounts_app, client_snippets, keys_app
from bourse.runtime.datadir import DataDir, DataDirInUse

if TYPE_CHECKING:
    from bourse.runtime.exchange import Exchange
    from bourse.runtime.sealing import SecretBox

app = typer.Typer(
    help="bourse: a spot exchange with compliance built into its core.", no_args_is_help=True
)
bench_app = typer.Typer(
    help="Benchmarks that print JSON (measured, never asserted).", no_args_is_help=True
)
app.add_typer(bench_app, name="bench")
app.add_typer(accounts_app, name="accounts")
app.add_typer(keys_app, name="keys")
app.add_typer(staff_app, name="staff")
app.add_typer(customers_app, name="customers")
app.add_typer(venues_app, name="venues")
app.add_typer(policy_app, name="policy")
app.add_typer(prices_app, name="prices")
app.add_typer(lists_app, name="lists")
app.add_typer(alerts_app, name="alerts")
app.command("withdraw-on-request")(withdraw_on_request)
app.command("screen")(screen_command)
err = Console(stderr=True, soft_wrap=True, highlight=False)
log = logging.getLogger(__name__)

DataDirOpt = Annotated[
    Path, typer.Option("--data-dir", help="Where the journal, snapshots and store live.")
]
# The engine thread should let the journal's writer thread in soon after an fsync returns: the
# default 5 ms switch interval would add up to 5 ms to every acknowledgement.
SWITCH_INTERVAL_S = 0.0001


@contextmanager
def progress_bar(description: str, total: int | None) -> Iterator[Any]:
    from rich.progress import (  # only long jobs draw one: keep it out of every start-up
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)


def _fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code=2)


# Kernel send buffer per connection. Left to autotuning, loopback grows it past a megabyte, so a
# WebSocket subscriber that stopped reading would hold that much before the hub saw it lag.
SEND_BUFFER = 256 * 1024


def _listening_socket(host: str, port: int) -> socket.socket:
    """The server's socket: connections accepted from it inherit its bounded send buffer."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    sock.set_inheritable(True)
    return sock


@app.command()
def run(
    data_dir: DataDirOpt = Path("data"),
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    snapshot_every: Annotated[
        int, typer.Option(help="Snapshot after this many commands (0: only on stop).")
    ] = 100_000,
    no_rate_limits: Annotated[
        bool, typer.Option("--no-rate-limits", help="Serve without Binance's rate limits.")
    ] = False,
    refresh_lists: Annotated[
        float,
        typer.Option(
            "--refresh-lists",
            help="Download the sanctions lists at start and every this many hours; a change "
            "rescreens every customer (0: off).",
        ),
    ] = 0,
    stream_queue: Annotated[
        int,
        typer.Option(
            "--stream-queue",
            help="Messages that may wait for one WebSocket subscriber before it is cut off.",
        ),
    ] = 5000,
    list_url: Annotated[
        list[str] | None,
        typer.Option(
            "--list-url",
            help="SOURCE=URL[,URL...]: a mirror to refresh a list from instead of its official "
            "URL (ofac_cons: four URLs, cons_prim/alt/add/comments). Repeatable.",
        ),
    ] = None,
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(
            "--trusted-proxy",
            help="IP/CIDR of a reverse proxy whose X-Forwarded-For names the client (for rate "
            "limits, bans and API keys' IP allow-lists). Repeatable; default none: the header "
            "is ignored.",
        ),
    ] = None,
) -> None:
    """Start the exchange (a new data directory gets demo markets and a funded demo account)."""
    import uvicorn

    from bourse.api.app import create_app
    from bourse.api.client_ip import TrustedProxies
    from bourse.demo import DEMO_ACCOUNT_ID, DEMO_FUNDS, SYMBOLS
    from bourse.runtime.exchange import Exchange, RecoveryError
    from bourse.runtime.heap import settle_heap
    from bourse.runtime.list_fetch import mirror_urls
    from bourse.runtime.list_refresh import ListRefresher
    from bourse.runtime.sanctions_lists import ListSourceError
    from bourse.runtime.sealing import SecretBox
    from bourse.runtime.service import Service

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    # Options are checked before recovery: a refusal after it would exit without a snapshot.
    try:
        proxies = TrustedProxies(trusted_proxy or [])
    except ValueError as exc:
        _fail(f"--trusted-proxy: {exc}")
    if refresh_lists < 0:
        _fail(f"--refresh-lists {refresh_lists}: hours must be 0 (off) or more")
    try:
        mirrors = mirror_urls(list_url or []) if refresh_lists > 0 else {}
    except ListSourceError as exc:
        _fail(f"--list-url: {exc}")
    if stream_queue < 1:
        _fail(f"--stream-queue {stream_queue}: at least 1")
    dd = DataDir(data_dir)
    fresh = not dd.journal.exists()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # while recovering, as Ctrl-C
    try:
        with progress_bar("recovering", None) as advance:
            exchange = Exchange(
                dd, progress=advance, snapshot_every=snapshot_every, projector_process=True
            )
    except KeyboardInterrupt:  # recovery only re-reads and re-projects: nothing to save yet
        err.print("stopped while recovering; the next start recovers again")
        raise typer.Exit(0) from None
    except DataDirInUse as exc:
        _fail(str(exc))
    except RecoveryError as exc:
        _fail(str(exc))
    except Exception as exc:  # e.g. JournalCorrupted: say what and where, never start silently
        _fail(f"cannot start from {dd.path}: {exc}")
    stop = _StopSignals()  # from here on a stop signal ends in a snapshot and exit 0
    settle_heap()
    service = Service(exchange, dd.operator_token(), SecretBox.at(dd.master_key_file))
    if fresh:
        _create_demo_key(dd, exchange, service.box)
    url = f"http://{host}:{port}"
    refresher = None
    if refresh_lists > 0:
        refresher = ListRefresher(service, refresh_lists * 3600, mirrors)
    asgi = create_app(
        service,
        rate_limits=not no_rate_limits,
        list_refresher=refresher,
        stream_queue=stream_queue,
        trusted_proxies=proxies,
    )
    # A request that never finishes must not keep the server from stopping (and snapshotting).
    config = uvicorn.Config(
        asgi,
        host=host,
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=10,
        # uvicorn would believe X-Forwarded-For from any loopback peer; the app decides instead
        proxy_headers=False,
        # As Binance: a ping every 20 s, and a connection without a pong for a minute is closed.
        ws_ping_interval=20,
        ws_ping_timeout=60,
    )
    server = uvicorn.Server(config)
    dd.write_server_info(url)
    r = exchange.recovery
    how = (
        "new, with demo markets"
        if fresh
        else (
            f"recovered {r.last_seq} commands "
            f"(snapshot at {r.snapshot_seq} + {r.replayed} replayed)"
        )
    )
    funds = ", ".join(f"{v} {k}" for k, v in DEMO_FUNDS.items())
    ws = url.replace("http://", "ws://", 1)
    err.print(
        f"[bold green]bourse is running[/] at [bold]{url}[/]\n"
        f"  health          {url}/health\n"
        f"  API docs        {url}/docs\n"
        f"  market streams  {ws}/ws/btcusdt@trade  or  {ws}/stream?streams=<a>/<b>\n"
        f"  WebSocket API   {ws}/ws-api/v3\n"
        f"  operator token  {dd.token_file}\n"
        f"                  (send it as 'Authorization: Bearer <token>' to {url}/admin/v1)\n"
        f"  markets         {' '.join(s.name for s in SYMBOLS)}\n"
        f"  venues          {_venues_line(exchange)}\n"
        f"  demo account    {DEMO_ACCOUNT_ID} ({funds}; a customer resident in DE)\n"
        f"  compliance      bourse customers|venues|policy|staff|alerts --help (see README)\n"
        f"  data directory  {dd.path} ({how})"
        + ("\n  rate limits     off" if no_rate_limits else "")
        + (f"\n  sanctions lists refreshed every {refresh_lists:g} h" if refresher else "")
        + _demo_key_banner(dd, url)
        + "\n  stop with Ctrl-C or SIGTERM (a snapshot is written, then it exits 0)"
    )
    stop.serving(server)
    try:
        server.run(sockets=[_listening_socket(host, port)])
    finally:
        # uvicorn has stopped accepting and let in-flight requests finish; now drain the
        # journal and the projection and snapshot (exchange.close), with signals held off
        dd.clear_server_info()
        exchange.close()


class _StopSignals:
    """SIGTERM and SIGINT stop the server cleanly and the process exits 0, whenever they come
    after recovery.

    uvicorn catches both while it serves, shuts down gracefully, then restores the previous
    handlers and raises the signal again so that the process dies of it (exit 143, no snapshot,
    server.json left behind). Installed underneath, these handlers only note that re-raise and
    any signal during the closing snapshot; one that comes before uvicorn serves makes it stop
    as soon as it has started."""

    def __init__(self) -> None:
        self.requested = False
        self.server: Any = None
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)

    def serving(self, server: Any) -> None:
        """`server` is the one to stop (uvicorn.Server, whose startup checks should_exit)."""
        self.server = server
        server.should_exit = self.requested

    def _on_signal(self, sig: int, _frame: object) -> None:
        if self.requested:
            log.info("%s: finishing the clean stop under way first", signal.Signals(sig).name)
        self.requested = True
        if self.server is not None:
            self.server.should_exit = True


def _venues_line(exchange: "Exchange") -> str:
    venues = exchange.engine.state.venues.values()
    return "; ".join(
        f"{v.code} serves {', '.join(v.jurisdictions) or 'the rest'}: {' '.join(sorted(v.symbols))}"
        for v in venues
    )


def _create_demo_key(dd: DataDir, exchange: "Exchange", box: "SecretBox") -> None:
    """A read+trade HMAC key for the demo account, made like any other key, right after genesis."""
    from bourse.demo import ACTOR, DEMO_ACCOUNT_ID
    from bourse.runtime.api_keys import hmac_key
    from bourse.runtime.exchange import now_ms

    cmd, secret = hmac_key(
        box,
        account_id=DEMO_ACCOUNT_ID,
        actor=ACTOR,
        ts_ms=now_ms(),
        reason="demo API key for a new data directory",
    )
    exchange.execute(cmd)
    # The one secret kept in plain text, for the demo account only, so every start can show it.
    dd.write_demo_key({"apiKey": cmd.api_key, "secretKey": secret, "accountId": DEMO_ACCOUNT_ID})


def _demo_key_banner(dd: DataDir, url: str) -> str:
    key = dd.demo_key()
    if key is None:
        return ""
    api_key, secret = str(key["apiKey"]), str(key["secretKey"])
    lines = [
        f"\n  demo API key    {api_key}",
        f"  demo secret     {secret}",
        f"                  (account {key['accountId']}; in {dd.demo_key_file}, for the demo only)",
        "  connect a client (paste into Python):",
    ]
    lines += [
        f"    {name:<17}{escape(code)}" for name, code in client_snippets(url, api_key, secret)
    ]
    return "\n".join(lines)


@app.command()
def replay(
    data_dir: DataDirOpt = Path("data"),
    rebuild_store: Annotated[
        bool, typer.Option("--rebuild-store", help="Drop the SQL projections and rebuild them.")
    ] = False,
) -> None:
    """Replay the journal from empty, check it against the latest snapshot, print the digest."""
    from bourse.engine import Engine, snapshot
    from bourse.journal.file_journal import FileJournal
    from bourse.journal.sequencer import replay as replay_records
    from bourse.journal.snapshots import SnapshotStore
    from bourse.store.db import store_url
    from bourse.store.projector import Projector

    dd = DataDir(data_dir)
    if not dd.journal.exists():
        _fail(f"{dd.path} has no journal")
    try:
        dd.lock()
    except DataDirInUse as exc:
        _fail(str(exc))
    started = time.perf_counter()
    journal = FileJournal(dd.journal)
    latest = SnapshotStore(dd.snapshots).latest()
    projector = Projector(store_url(dd.path)) if rebuild_store else None
    if projector is not None:
        projector.reset()
    engine = Engine()
    snapshot_check = "no snapshot"
    try:
        with progress_bar("replaying", journal.last_seq) as advance:

            def release(batch: list[Any]) -> None:
                if projector is not None:
                    projector.apply(batch)
                advance(len(batch))

            if latest is not None:
                records = (r for r in journal.replay(1) if r[0] <= latest[0])
                replay_records(engine, records, release)
                same = snapshot.dump(engine.state) == latest[1]
                snapshot_check = f"snapshot at seq {latest[0]} {'matches' if same else 'DIFFERS'}"
                if not same:
                    _fail(f"replay disagrees with the snapshot at seq {latest[0]}")
            replay_records(engine, journal.replay(engine.state.last_seq + 1), release)
    finally:
        journal.close()
        if projector is not None:
            projector.close()
        dd.unlock()
    print(
        json.dumps(
            {
                "commands": engine.state.last_seq,
                "digest": snapshot.digest(engine.state),
                "snapshot": snapshot_check,
                "store_rebuilt": rebuild_store,
                "seconds": round(time.perf_counter() - started, 3),
            }
        )
    )


@app.command("snapshot")
def snapshot_cmd(data_dir: DataDirOpt = Path("data")) -> None:
    """Write a snapshot now: through the running server if there is one, else directly."""
    dd = DataDir(data_dir)
    url = dd.server_url()
    if url is not None:
        token = dd.operator_token()
        import httpx

        response = httpx.post(
            f"{url}/admin/v1/snapshot", headers={"Authorization": f"Bearer {token}"}, timeout=60
        )
        if response.status_code != 200:
            _fail(f"the server refused: {response.text}")
        print(json.dumps(response.json()))
        return
    from bourse.runtime.exchange import Exchange

    try:
        exchange = Exchange(dd, demo=False)
    except DataDirInUse as exc:
        _fail(str(exc))
    seq, path = exchange.write_snapshot()
    exchange.close(snapshot_on_close=False)
    print(json.dumps({"seq": seq, "path": path}))


CommandsOpt = Annotated[int, typer.Option("--commands", help="Flow commands to measure.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print only the JSON result.")]
BenchUrlOpt = Annotated[
    str | None, typer.Option("--url", help="A running server (default: start one).")
]
BenchTokenOpt = Annotated[
    str | None, typer.Option("--token", help="That server's operator token (with --url).")
]


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
        int, typer.Option("--batch", help="Commands sequenced before waiting for durability.")
    ] = 128,
    writer: Annotated[
        str, typer.Option("--writer", help="Commit mode: inline (in flush) or thread.")
    ] = "inline",
) -> None:
    """The same flow journaled with fsync group commit, acknowledged when durable."""
    from bourse.bench import journal_bench

    if writer not in ("inline", "thread"):
        _fail(f"--writer must be inline or thread, not {writer!r}")
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    with progress_bar("journal bench", commands) as advance:
        result = journal_bench.run(
            commands,
            str(directory) if directory else None,
            batch=batch,
            writer=writer,
            progress=advance,
        )
    print(json.dumps(result))


@bench_app.command("api")
def bench_api(
    orders: Annotated[int, typer.Option("--orders", help="Signed orders to send.")] = 20_000,
    concurrency: Annotated[
        int, typer.Option("--concurrency", help="Keep-alive connections sending at once.")
    ] = 16,
    accounts: Annotated[int, typer.Option("--accounts", help="Trading accounts to use.")] = 16,
    processes: Annotated[
        int, typer.Option("--processes", help="Load-generating processes sharing the connections.")
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
            "--gateways", help="Passed to `bourse run --gateways`; the ceiling's workers."
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
        _fail("--url needs --token: the bench opens funded accounts through the admin API")
    runs = 1 if no_ceiling or url is not None else 3  # bare, bourse, bare
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
    except ValueError as exc:
        _fail(str(exc))
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
        int, typer.Option("--subscribers", help="Market-data stream connections listening.")
    ] = 100,
    subscriber_processes: Annotated[
        int, typer.Option("--subscriber-processes", help="Processes holding the subscribers.")
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
    url: BenchUrlOpt = None,
    token: BenchTokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Orders over the WebSocket API while market-data subscribers listen: rate, latency, lag."""
    from bourse.bench import ws_bench

    if url is not None and token is None:
        _fail("--url needs --token: the bench opens funded accounts through the admin API")
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
            )
    except ValueError as exc:
        _fail(str(exc))
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
        _fail(str(exc))
    if as_json:
        print(json.dumps(result))
        return
    table = Table(title=f"bench policy: {accounts:,} customers")
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
        _fail(str(exc))
    if as_json:
        print(json.dumps(result))
        return
    Console().print(screening_bench.table(result))


def main() -> None:
    app()
