"""`bourse consume sql`: the SQL projection as a process of its own, on any machine, reading
the journal's stream on NATS (see `store/stream_projection.py`)."""

import json
import logging
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Annotated, Any

import typer

from bourse.cli.console import err, fail

log = logging.getLogger(__name__)
consume_app = typer.Typer(help="Consumers of the journal's stream, in processes of their own.")
MAX_READY_LAG = 10_000  # commands behind past which the consumer says it is not ready
JournalOpt = Annotated[
    str, typer.Option("--journal", help="The stream: nats://host:4222[,...]/STREAM.")
]
StateDirOpt = Annotated[
    Path, typer.Option("--state-dir", help="Where this consumer keeps its engine's snapshots.")
]
MaxLagOpt = Annotated[
    int, typer.Option("--max-lag", help="Commands behind past which /health/ready is 503.")
]


@consume_app.command("sql")
def consume_sql(
    journal: JournalOpt,
    database_url: Annotated[
        str,
        typer.Option(
            "--database-url",
            help="The store, e.g. postgresql+psycopg://user@host:5432/db (its position is kept "
            "in it, in the same transaction as the rows).",
        ),
    ],
    state_dir: StateDirOpt = Path("consumer"),
    host: Annotated[str, typer.Option(help="Interface of /metrics and /health.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port of /metrics and /health (0: none).")
    ] = 9101,
    max_lag: MaxLagOpt = MAX_READY_LAG,
) -> None:
    """Project the journal's stream into a SQL store, resuming where the store says it is."""
    from sqlalchemy.exc import SQLAlchemyError

    from bourse.journal.base import JournalError
    from bourse.journal.nats_follow import StreamFollower
    from bourse.server.logs import configure
    from bourse.server.metrics import Metrics
    from bourse.store.projector import Projector
    from bourse.store.stream_projection import StreamProjection

    configure("text")
    try:  # the store first: a wrong URL is told as such, not after waiting for NATS
        projector = Projector(database_url)
    except (SQLAlchemyError, OSError) as exc:
        fail(f"--database-url {database_url}: {store_problem(exc)}")
    try:
        stream = StreamFollower(journal, create=False)
    except (ValueError, JournalError) as exc:
        projector.close()
        fail(f"--journal: {exc}")
    try:
        consumer = StreamProjection(stream, projector, state_dir / "snapshots")
    except (ValueError, OSError) as exc:
        stream.close()
        projector.close()
        fail(str(exc))
    metrics = Metrics(lambda: "consumer-sql")
    metrics.add_gauges(
        lambda: [
            ("bourse_seq", "Sequence numbers", {"stage": "sql"}, consumer.position),
            (
                "bourse_consumer_lag_commands",
                "Commands in the stream the consumer has not applied yet",
                {"consumer": "sql"},
                consumer.lag(),
            ),
        ]
    )

    def health() -> tuple[int, dict[str, Any]]:
        lag = consumer.lag()
        ready = lag <= max_lag
        body = {"status": "ok" if ready else "behind", "seq": consumer.position, "behind": lag}
        return (200 if ready else 503), body

    server = _serve(host, port, metrics.exposition, health) if port else None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    err.print(f"consuming {journal} into the store from seq {consumer.position + 1}")
    try:
        while not stop.is_set():
            consumer.step()
    except KeyboardInterrupt:
        pass
    finally:
        if server is not None:
            server.shutdown()
        stream.close()
        projector.close()


def store_problem(exc: BaseException) -> str:
    """What is wrong with a store URL, in one line: the driver's own words where there are."""
    said = str(getattr(exc, "orig", None) or exc).strip()
    return said.splitlines()[0] if said else type(exc).__name__


def _serve(host: str, port: int, exposition: Any, health: Any) -> ThreadingHTTPServer:
    """/metrics (Prometheus), /health (always 200) and /health/ready (503 when far behind)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                status, body, kind = 200, exposition(), "text/plain; version=0.0.4"
            elif self.path in ("/health", "/health/ready"):
                code, answer = health()
                status = code if self.path == "/health/ready" else 200
                body, kind = json.dumps(answer).encode(), "application/json"
            else:
                status, body, kind = 404, b'{"error": "not found"}', "application/json"
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:  # no line per scrape
            pass

    try:
        server = ThreadingHTTPServer((host, port), Handler)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    threading.Thread(target=server.serve_forever, name="consumer-http", daemon=True).start()
    return server


@consume_app.command("streams")
def consume_streams(
    journal: JournalOpt,
    database_url: Annotated[
        str,
        typer.Option(
            "--database-url",
            help="The SQL store `bourse consume sql` writes (klines before the last day, the "
            "tickers' first day are read from it).",
        ),
    ],
    state_dir: StateDirOpt = Path("consumer-streams"),
    host: Annotated[str, typer.Option(help="Interface to serve the streams on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=1, max=65535, help="Port of the streams, /metrics and /health.")
    ] = 9443,
    max_lag: MaxLagOpt = MAX_READY_LAG,
    stream_queue: Annotated[
        int, typer.Option("--stream-queue", help="Messages a subscriber may leave unread.")
    ] = 5000,
    no_rate_limits: Annotated[bool, typer.Option("--no-rate-limits")] = False,
    log_format: Annotated[str, typer.Option("--log-format")] = "text",
) -> None:
    """Serve Binance's WebSocket market and user data streams from the journal's stream, on a
    machine of their own; they start where the stream ends when this starts."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from bourse.api.stream_app import create_stream_app
    from bourse.cli.run import listening_socket
    from bourse.cli.stop_signals import StopSignals
    from bourse.journal.base import JournalError
    from bourse.journal.nats_follow import StreamFollower
    from bourse.server.http_server import http_server
    from bourse.server.logs import configure
    from bourse.streams.journal_feed import JournalFeed

    if log_format not in ("text", "json"):
        fail(f"--log-format {log_format}: text or json")
    if stream_queue < 1:
        fail(f"--stream-queue {stream_queue}: at least 1")
    try:
        make_url(database_url)
    except SQLAlchemyError as exc:
        fail(f"--database-url {database_url}: {store_problem(exc)}")
    configure(log_format)
    sock = listening_socket(host, port)
    try:
        stream = StreamFollower(journal, create=False)
    except (ValueError, JournalError) as exc:
        fail(f"--journal: {exc}")
    try:
        feed = JournalFeed(stream, state_dir / "snapshots")
        err.print(f"catching up with {journal} (from seq {feed.engine.seq + 1})")
        feed.catch_up()
    except (ValueError, JournalError, OSError) as exc:
        stream.close()
        fail(str(exc))
    app = create_stream_app(
        feed,
        database_url,
        stream_queue=stream_queue,
        rate_limits=not no_rate_limits,
        max_lag=max_lag,
    )
    server = http_server(app)
    stop = StopSignals()
    stop.serving(server)
    feed.on_failure = lambda: setattr(server, "should_exit", True)
    where = f"{host}:{port}"
    err.print(
        f"streams of {journal} from seq {feed.released_seq} at ws://{where}/ws/<stream> and "
        f"ws://{where}/stream?streams=<a>/<b>; health http://{where}/health"
    )
    try:
        server.run(sockets=[sock])
    finally:
        stream.close()
    if feed.failed:
        raise typer.Exit(1)
