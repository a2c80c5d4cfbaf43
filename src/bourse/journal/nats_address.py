"""Where a journal on NATS JetStream lives: `nats://host:4222[,host2:4223,...]/STREAM[?replicas=3]`.

Several servers of one cluster are listed comma-separated, so the client can reach any of them;
the stream keeps the commands, `replicas` copies of it (1 or 3; created so if it is missing).
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass
from urllib.parse import parse_qs

_STREAM_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_HOST_PORT = re.compile(r"^[A-Za-z0-9._-]+(:\d{1,5})?$")
_OPTIONS = ("replicas",)


@dataclass(frozen=True)
class NatsAddress:
    servers: tuple[str, ...]  # nats://host:port each
    stream: str
    replicas: int = 1

    @property
    def subject(self) -> str:
        return f"bourse.journal.{self.stream}"

    @property
    def lease_bucket(self) -> str:
        """The key-value bucket holding who writes the stream (see `nats_lease`)."""
        return f"{self.stream}_writer"

    def __str__(self) -> str:
        hosts = ",".join(s.removeprefix("nats://") for s in self.servers)
        return f"nats://{hosts}/{self.stream}"


def is_nats_url(spec: str) -> bool:
    return spec.startswith("nats://")


def parse_nats_url(url: str) -> NatsAddress:
    """The address a `--journal nats://…` names; a ValueError says what is wrong with it."""
    if not is_nats_url(url):
        raise ValueError(f"a NATS journal is named nats://host:port/STREAM, not {url!r}")
    rest = url.removeprefix("nats://")
    rest, _, query = rest.partition("?")
    hosts, slash, stream = rest.partition("/")
    if not slash or not stream:
        raise ValueError(f"{url!r} names no stream: write nats://host:4222/STREAM")
    if not _STREAM_NAME.match(stream):
        raise ValueError(
            f"stream name {stream!r} may hold only letters, digits, '-' and '_' (at most 64)"
        )
    servers = []
    for host in hosts.split(","):
        if not _HOST_PORT.match(host):
            raise ValueError(f"{host!r} in {url!r} is not host or host:port")
        servers.append(f"nats://{host if ':' in host else host + ':4222'}")
    options = parse_qs(query, keep_blank_values=True)
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise ValueError(f"unknown option {unknown[0]!r} in {url!r} (known: replicas)")
    replicas = 1
    if "replicas" in options:
        value = options["replicas"][-1]
        if value not in ("1", "3", "5"):
            raise ValueError(f"replicas={value!r}: a stream keeps 1, 3 or 5 copies")
        replicas = int(value)
    return NatsAddress(tuple(servers), stream, replicas)


def node_name(home: str | None = None) -> str:
    """This engine's name in the lease: BOURSE_NODE if set, else the host and `home` (its data
    directory, which one process at a time owns: so an engine restarting takes its own lease
    back at once), else the host and the process id."""
    return os.environ.get("BOURSE_NODE") or f"{socket.gethostname()}:{home or os.getpid()}"
