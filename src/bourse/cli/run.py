"""`bourse run`: recover the data directory, then serve the exchange until a stop signal."""

import asyncio
import logging
import signal
import socket
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from bourse.cli.console import DataDirOpt, err, fail, progress_bar
from bourse.cli.operator import client_snippets
from bourse.cli.stop_signals import StopSignals
from bourse.journal.file_journal import SWITCH_INTERVAL_S as FILE_SWITCH_INTERVAL_S
from bourse.journal.opening import journal_spec
from bourse.server.datadir import DataDir, DataDirInUse

if TYPE_CHECKING:
    from bourse.keys.sealing import SecretBox
    from bourse.server.exchange import Exchange
    from bourse.server.service import Service
    from bourse.view import ReadModel
    from bourse.workers.list_refresh import ListRefresher

log = logging.getLogger(__name__)

# Until the journal is open (then its own, see Journal.switch_interval_s), and in gateways:
# the file journal's, so that a thread waiting for the GIL gets it soon.
SWITCH_INTERVAL_S = FILE_SWITCH_INTERVAL_S


# Kernel send buffer per connection. Left to autotuning, loopback grows it past a megabyte, so a
# WebSocket subscriber that stopped reading would hold that much before the hub saw it lag.
SEND_BUFFER = 256 * 1024


def listening_socket(host: str, port: int) -> socket.socket:
    """The server's socket: connections accepted from it inherit its bounded send buffer."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    sock.set_inheritable(True)
    return sock


def _listeners(
    host: str, port: int, stream_port: int
) -> tuple[socket.socket, socket.socket | None]:
    """The API's socket and, with a --stream-port, the streams' (or the command fails)."""
    listener = listening_socket(host, port)
    try:
        return listener, listening_socket(host, stream_port) if stream_port else None
    except BaseException:
        listener.close()
        raise


def run(
    data_dir: DataDirOpt = Path("data"),
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    snapshot_every: Annotated[
        int, typer.Option(min=0, help="Snapshot after this many commands (0: only on stop).")
    ] = 100_000,
    audit_heads_to: Annotated[
        str,
        typer.Option(
            "--audit-heads-to",
            help="A NATS server (nats://host:4222) on whose subject bourse.audit.heads each "
            "signed audit tree head is published, besides data/audit/heads.jsonl.",
        ),
    ] = "",
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
    log_format: Annotated[
        str,
        typer.Option(
            "--log-format",
            help="text (for a terminal) or json (one object per line, for a collector).",
        ),
    ] = "text",
    gateways: Annotated[
        int,
        typer.Option(
            "--gateways",
            help="Serve the APIs from this many gateway processes beside the engine process "
            "(0: one process does everything, what a laptop needs).",
        ),
    ] = 0,
    stream_port: Annotated[
        int,
        typer.Option(
            "--stream-port",
            min=0,
            max=65535,
            help="With --gateways: also serve the WebSocket streams from a process of their "
            "own on this port (as Binance's stream host), so subscribers do not slow order "
            "entry (0: streams only on --port).",
        ),
    ] = 0,
    journal: Annotated[
        str,
        typer.Option(
            "--journal",
            envvar="BOURSE_JOURNAL",
            help="Where commands are journaled: a directory (default: <data-dir>/journal) or a "
            "NATS JetStream stream, nats://host:4222[,host2:4222,...]/STREAM[?replicas=3] "
            "(created if missing; one engine writes it, fenced). In the stream's name, {dir} "
            "stands for a digest of the data directory's path.",
        ),
    ] = "",
    standby: Annotated[
        bool,
        typer.Option(
            "--standby",
            help="With a NATS --journal: follow the stream and keep this engine current; when "
            "its writer stops renewing its lease (its process or machine dead), take over as "
            "the writer and start serving.",
        ),
    ] = False,
    no_four_eyes: Annotated[
        bool,
        typer.Option(
            "--no-four-eyes",
            help="A data directory that never set four eyes (a new one) starts without them, "
            "instead of with the default set: for tests, benches and a one-person trial. Once "
            "set, only an approved SetFourEyes changes them.",
        ),
    ] = False,
) -> None:
    """Start the exchange (a new data directory gets demo markets and a funded demo account)."""
    # What the options' checks need, and only that, is imported before them: a refused option
    # is told at once, not after the server's whole import (about 2 s).
    from bourse.api.client_ip import TrustedProxies
    from bourse.compliance.sanctions.versions import ListSourceError
    from bourse.server.logs import configure as configure_logs
    from bourse.workers.list_fetch import mirror_urls

    if log_format not in ("text", "json"):
        fail(f"--log-format {log_format}: text or json")
    configure_logs(log_format)
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    # Options are checked before recovery: a refusal after it would exit without a snapshot.
    try:
        proxies = TrustedProxies(trusted_proxy or [])
    except ValueError as exc:
        fail(f"--trusted-proxy: {exc}")
    if refresh_lists < 0:
        fail(f"--refresh-lists {refresh_lists}: hours must be 0 (off) or more")
    try:
        mirrors = mirror_urls(list_url or []) if refresh_lists > 0 else {}
    except ListSourceError as exc:
        fail(f"--list-url: {exc}")
    if stream_queue < 1:
        fail(f"--stream-queue {stream_queue}: at least 1")
    if not 0 <= gateways <= MAX_GATEWAYS:
        fail(f"--gateways {gateways}: from 0 (one process) to {MAX_GATEWAYS}")
    if stream_port and not gateways:
        fail("--stream-port needs --gateways: a process of its own serves the streams")
    if stream_port and stream_port == port:
        fail(f"--stream-port {stream_port}: not the API's --port")
    dd = DataDir(data_dir)
    journal = journal_spec(journal, dd.path)
    if journal.startswith("nats:"):
        from bourse.journal.nats_address import parse_nats_url

        try:
            parse_nats_url(journal)
        except ValueError as exc:
            fail(f"--journal: {exc}")
    if standby and not journal.startswith("nats:"):
        fail("--standby follows a journal on NATS: add --journal nats://host:4222/STREAM")
    from bourse.api.app import create_app
    from bourse.compliance.staff import StaffError
    from bourse.demo import DEMO_ACCOUNT_ID, DEMO_FUNDS, SYMBOLS
    from bourse.keys.sealing import SecretBox
    from bourse.server.exchange import Exchange, RecoveryError
    from bourse.server.governance import (
        create_demo_staff,
        migrate_legacy_staff,
        settle_four_eyes,
    )
    from bourse.server.heap import settle_heap
    from bourse.server.http_server import http_server
    from bourse.server.service import Service
    from bourse.workers.list_refresh import ListRefresher

    # The directory, then the port, before recovery, as an option is checked: a second server
    # on the directory, a port in use or a host that is not this machine's is told at once, not
    # after the children started. A standby binds once it takes over, since the writer it
    # follows may hold that port until it dies.
    try:
        dd.lock()
    except DataDirInUse as exc:
        fail(str(exc))
    sockets = None if standby else _listeners(host, port, stream_port)
    if standby:
        err.print(f"standby: following {journal}; serving once its writer stops")
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # while recovering, as Ctrl-C
    try:
        with progress_bar("recovering", None) as advance:
            exchange = Exchange(
                dd,
                progress=advance,
                snapshot_every=snapshot_every,
                projector_process=True,
                audit=True,
                audit_process=True,
                audit_heads_to=audit_heads_to,
                journal=journal,
                standby=standby,
                check_secrets=True,
            )
    except KeyboardInterrupt:  # recovery only re-reads and re-projects: nothing to save yet
        err.print("stopped while recovering; the next start recovers again")
        raise typer.Exit(0) from None
    except DataDirInUse as exc:
        fail(str(exc))
    except RecoveryError as exc:
        fail(str(exc))
    except Exception as exc:  # e.g. JournalCorrupted: say what and where, never start silently
        fail(f"cannot start from {dd.path}: {exc}")
    sys.setswitchinterval(exchange.journal.switch_interval_s)
    stop = StopSignals()  # from here on a stop signal ends in a snapshot and exit 0
    fresh = exchange.fresh
    try:
        migrated = migrate_legacy_staff(dd, exchange)
        four_eyes = settle_four_eyes(exchange, default=not no_four_eyes, fresh=fresh)
        if fresh:
            create_demo_staff(dd, exchange)
    except (StaffError, RuntimeError) as exc:
        exchange.close()
        fail(f"cannot set up the staff of {dd.path}: {exc}")
    settle_heap()
    service = Service(exchange, dd.operator_token(), SecretBox.at(dd.master_key_file))
    if fresh:
        _create_demo_key(dd, exchange, service.box)
    url = f"http://{host}:{port}"
    refresher = None
    if refresh_lists > 0:
        refresher = ListRefresher(service, refresh_lists * 3600, mirrors)
    if sockets is None:
        try:
            sockets = _listeners(host, port, stream_port)
        except typer.Exit:
            exchange.close()  # drained and snapshotted, as on a stop
            raise
    listener, stream_listener = sockets
    if gateways:
        server: Any = _EngineProcess(
            service,
            dd,
            gateways,
            listener,
            stream_listener,
            refresher,
            rate_limits=not no_rate_limits,
            gateway_options=_gateway_options(
                no_rate_limits, stream_queue, trusted_proxy, log_format, list_url, refresh_lists
            ),
        )
    else:
        server = http_server(
            create_app(
                service,
                rate_limits=not no_rate_limits,
                list_refresher=refresher,
                stream_queue=stream_queue,
                trusted_proxies=proxies,
            )
        )
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
    streams_at = f"ws://{host}:{stream_port}" if stream_port else ws
    err.print(
        f"[bold green]bourse is running[/] at [bold]{url}[/]\n"
        f"  health          {url}/health\n"
        f"  API docs        {url}/docs\n"
        f"  console         {url}/console  (staff: password and TOTP code)\n"
        f"  market streams  {streams_at}/ws/btcusdt@trade  or  "
        f"{streams_at}/stream?streams=<a>/<b>\n"
        f"  WebSocket API   {ws}/ws-api/v3\n"
        f"  operator token  {dd.token_file}\n"
        f"                  (send it as 'Authorization: Bearer <token>' to {url}/admin/v1)\n"
        f"  markets         {' '.join(s.name for s in SYMBOLS)}\n"
        f"  venues          {_venues_line(service.view)}\n"
        f"  demo account    {DEMO_ACCOUNT_ID} ({funds}; a customer resident in DE)\n"
        f"  compliance      bourse customers|venues|policy|staff|alerts|proposals --help (README)\n"
        f"  data directory  {dd.path} ({how})"
        + (f"\n  journal         {journal}" if journal else "")
        + ("\n  rate limits     off" if no_rate_limits else "")
        + (
            f"\n  processes       1 engine + {gateways} gateways"
            + (" + 1 for streams" if stream_port else "")
            if gateways
            else ""
        )
        + (f"\n  sanctions lists refreshed every {refresh_lists:g} h" if refresher else "")
        + (f"\n  staff           moved from staff.json: {', '.join(migrated)}" if migrated else "")
        + (f"\n  four eyes       set now: {four_eyes}" if four_eyes else "")
        + _demo_staff_banner(dd, url, service.view)
        + _demo_key_banner(dd, url)
        + "\n  stop with Ctrl-C or SIGTERM (a snapshot is written, then it exits 0)"
    )
    stop.serving(server)
    exchange.on_failure.append(stop.journal_stopped)
    try:
        server.run(sockets=[listener])
    finally:
        # uvicorn has stopped accepting and let in-flight requests finish; now drain the
        # journal and the projection and snapshot (exchange.close), with signals held off
        dd.clear_server_info()
        exchange.close()
    if stop.journal_failure is not None:
        fail(
            f"{stop.journal_failure}; this engine stopped"
            + (" (start it again with --standby to follow the new writer)" if journal else ""),
            code=JOURNAL_STOPPED_EXIT,
        )


MAX_GATEWAYS = 64
JOURNAL_STOPPED_EXIT = 3  # the journal stopped for good: e.g. another engine took it over
UNIX_PATH_MAX = 108  # bytes in a Unix socket's address on Linux (sun_path), its NUL included


def _gateway_options(
    no_rate_limits: bool,
    stream_queue: int,
    trusted_proxy: list[str] | None,
    log_format: str,
    list_url: list[str] | None,
    refresh_lists: float,
) -> list[str]:
    options = ["--stream-queue", str(stream_queue), "--log-format", log_format]
    for proxy in trusted_proxy or []:
        options += ["--trusted-proxy", proxy]
    # a refresh an operator asks a gateway for downloads from where the scheduled one does
    for mirror in (list_url or []) if refresh_lists > 0 else []:
        options += ["--list-url", mirror]
    return options + (["--no-rate-limits"] if no_rate_limits else [])


class _EngineProcess:
    """`bourse run --gateways N`: this process runs the engine, the journal, the store's
    projection and the workers that re-enter as commands (scheduled policies, list refresh),
    and serves the gateway processes over the engine link; it answers no HTTP itself.

    Shaped like uvicorn.Server for `StopSignals` and `run`: `should_exit` stops it."""

    def __init__(
        self,
        service: "Service",
        dd: DataDir,
        n: int,
        listener: socket.socket,
        stream_listener: socket.socket | None,
        refresher: "ListRefresher | None",
        *,
        rate_limits: bool,
        gateway_options: list[str],
    ) -> None:
        self.service = service
        self.dd = dd
        self.n = n
        self.listener = listener
        self.stream_listener = stream_listener
        self.refresher = refresher
        self.rate_limits = rate_limits
        self.gateway_options = gateway_options
        self._should_exit = False
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.socket_path = dd.path / "engine.sock"
        if len(str(self.socket_path).encode()) >= UNIX_PATH_MAX:
            # too long for a Unix socket's address: a private directory of its own (0700)
            self.socket_path = Path(tempfile.mkdtemp(prefix="bourse-")) / "engine.sock"

    @property
    def should_exit(self) -> bool:
        return self._should_exit

    @should_exit.setter
    def should_exit(self, value: bool) -> None:  # from a signal handler, on the main thread
        self._should_exit = value
        if value and self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)

    def run(self, sockets: list[socket.socket]) -> None:
        from bourse.server.http_server import run_on_server_loop

        run_on_server_loop(self._serve())

    def _argv(self, role: str) -> Callable[[int, int], list[str]]:
        def argv(index: int, fd: int) -> list[str]:
            return [
                sys.executable, "-m", "bourse", "gateway", "--engine-socket",
                str(self.socket_path), "--fd", str(fd), "--name", f"{role}-{index}",
                *self.gateway_options,
            ]  # fmt: skip

        return argv

    async def _serve(self) -> None:
        from bourse.api.binance.ratelimit import CALLS, Limits, LocalRates
        from bourse.server.engine_link import EngineHost
        from bourse.server.gateways import Gateways
        from bourse.workers.policy_driver import PolicyDriver

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        if self._should_exit:
            self._stop.set()
        service = self.service
        service.process = "engine"
        service.attach(self._loop)
        # One Limits for every gateway, so that weights, order counts and bans stay exact.
        limits = Limits(service.clock)
        limits.enabled = self.rate_limits
        service.on_release.append(limits.on_release)
        rates = LocalRates(limits)
        host = EngineHost(service, self.socket_path, {name: getattr(rates, name) for name in CALLS})
        await host.start()
        driver = PolicyDriver(service)
        driver.start()
        if self.refresher is not None:
            self.refresher.start()
        pools = [Gateways(self.n, self.listener, self._argv("gateway"))]
        if self.stream_listener is not None:
            pools.append(Gateways(1, self.stream_listener, self._argv("streams"), "streams"))
        for pool in pools:
            await pool.start()
        try:
            await self._stop.wait()
        finally:
            for pool in pools:  # first: their requests in flight are answered
                await pool.stop()
            if self.refresher is not None:
                await self.refresher.stop()
            await driver.stop()
            await host.stop()
            if self.socket_path.parent != self.dd.path:
                self.socket_path.parent.rmdir()


def _venues_line(view: "ReadModel") -> str:
    venues = view.venues.values()
    return "; ".join(
        f"{v.code} serves {', '.join(v.jurisdictions) or 'the rest'}: {' '.join(sorted(v.symbols))}"
        for v in venues
    )


def _create_demo_key(dd: DataDir, exchange: "Exchange", box: "SecretBox") -> None:
    """A read+trade HMAC key for the demo account, made like any other key, right after genesis."""
    from bourse.demo import ACTOR, DEMO_ACCOUNT_ID
    from bourse.keys.api_keys import hmac_key
    from bourse.server.exchange import now_ms

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


def _demo_staff_banner(dd: DataDir, url: str, view: "ReadModel") -> str:
    from bourse.compliance.staff import TokenKind
    from bourse.keys.staff_tokens import setup_link, token_digest
    from bourse.server.exchange import now_ms

    staff = dd.demo_staff()
    if not staff:
        return ""
    lines = ["\n  demo staff      four eyes: one proposes, the other approves"]
    roles = {"demo.officer": "proposes", "demo.senior": "approves"}
    lines += [
        f"    {name:<13}{roles.get(name, ''):<9} --token {token}" for name, token in staff.items()
    ]
    lines.append(f"                  (in {dd.demo_staff_file}, for the demo only)")
    links = dd.demo_links() or {}
    now = now_ms()
    unused = {
        name: str(token)
        for name, token in links.items()
        if view.staff_token(token_digest(str(token)), now, TokenKind.SETUP) is not None
    }
    if unused:
        lines.append("  console logins  open a link once to choose a password and a TOTP app:")
        lines += [f"    {name:<13}{setup_link(url, t)}" for name, t in unused.items()]
    return "\n".join(lines)


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
