"""`bourse gateway`: one gateway process of `bourse run --gateways N`, started by the engine
process (not by hand): the Binance REST and WebSocket APIs, streams and the admin API, on the
listening socket it inherits, with every command sent to the engine process."""

import logging
import socket
import sys
from pathlib import Path
from typing import Annotated

import typer

log = logging.getLogger(__name__)


def gateway(
    engine_socket: Annotated[Path, typer.Option(help="The engine process's Unix socket.")],
    fd: Annotated[int, typer.Option(min=0, help="The inherited listening socket.")],
    name: Annotated[
        str, typer.Option(help="Which process this is (gateway-2, streams-1), for logs.")
    ] = "gateway-1",
    no_rate_limits: Annotated[bool, typer.Option("--no-rate-limits")] = False,
    stream_queue: Annotated[int, typer.Option("--stream-queue")] = 5000,
    trusted_proxy: Annotated[list[str] | None, typer.Option("--trusted-proxy")] = None,
    log_format: Annotated[str, typer.Option("--log-format")] = "text",
    list_url: Annotated[list[str] | None, typer.Option("--list-url")] = None,
) -> None:
    """Serve as a gateway of a running engine process (started by `bourse run --gateways N`)."""
    from bourse.cli.console import fail
    from bourse.cli.run import SWITCH_INTERVAL_S
    from bourse.server.http_server import run_on_server_loop
    from bourse.server.logs import configure as configure_logs

    if log_format not in ("text", "json"):
        fail(f"--log-format {log_format}: text or json")
    configure_logs(log_format, role=name)
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    try:
        listener = socket.socket(fileno=fd)
    except (OSError, ValueError, OverflowError) as exc:
        fail(f"--fd {fd}: not a listening socket this process inherited ({exc})")
    code = run_on_server_loop(
        _serve(
            engine_socket,
            listener,
            name,
            no_rate_limits,
            stream_queue,
            trusted_proxy or [],
            list_url or [],
        )
    )
    raise typer.Exit(code)


async def _serve(
    engine_socket: Path,
    listener: socket.socket,
    name: str,
    no_rate_limits: bool,
    stream_queue: int,
    trusted_proxy: list[str],
    list_url: list[str],
) -> int:
    from bourse.api.app import create_app
    from bourse.api.binance.ratelimit import RemoteRates
    from bourse.api.client_ip import TrustedProxies
    from bourse.server.engine_link import EngineLink
    from bourse.server.heap import settle_heap
    from bourse.server.http_server import http_server
    from bourse.workers.list_fetch import mirror_urls
    from bourse.workers.list_refresh import ListRefresher

    link = EngineLink(engine_socket, process=name)
    try:
        await link.connect()
    except (OSError, ConnectionError) as exc:
        log.error("%s cannot reach the engine process at %s: %s", name, engine_socket, exc)
        return 1
    settle_heap()
    rates = RemoteRates(link.call, link.clock)
    app = create_app(
        link,
        rate_limits=not no_rate_limits,
        stream_queue=stream_queue,
        trusted_proxies=TrustedProxies(trusted_proxy),
        rates=rates,
    )
    if list_url:  # not started: the engine process refreshes on schedule; this one on request
        app.state.list_refresher = ListRefresher(link, 0, mirror_urls(list_url))
    server = http_server(app)
    lost = False

    def engine_gone() -> None:
        nonlocal lost
        lost = True
        server.should_exit = True  # its requests can no longer be answered: stop accepting

    link.on_lost.append(engine_gone)
    try:
        await server.serve(sockets=[listener])
    finally:
        link.on_lost.remove(engine_gone)
        await link.close()
    if lost:
        log.error("%s: the engine process went away; exiting", name)
        return 1
    return 0
