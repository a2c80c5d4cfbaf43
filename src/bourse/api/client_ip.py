"""Which address a request comes from: its peer, unless the peer is a proxy the operator named
(`bourse run --trusted-proxy`), and then the client that proxy names in X-Forwarded-For.

`BourseApp` resolves this once per connection into `scope["client"]`, which every reader of a
client's address takes it from (rate limits and IP bans, API keys' IP allow-lists, the WebSocket
connection limits). With no proxy named, forwarded headers are ignored: anyone can send them.
"""

import ipaddress
from collections.abc import Iterable
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Client = tuple[str, int]


class TrustedProxies:
    def __init__(self, specs: Iterable[str] = ()) -> None:
        """`specs`: IP addresses or CIDR networks; ValueError names one that is neither."""
        networks: list[Network] = []
        for spec in specs:
            try:
                networks.append(ipaddress.ip_network(spec.strip(), strict=False))
            except ValueError:
                raise ValueError(
                    f"trusted proxy {spec!r} is not an IP address or a CIDR network"
                ) from None
        self.networks = tuple(networks)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, host: str) -> bool:
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # a dual-stack socket's IPv4 peer: ::ffff:10.0.0.5
        return any(ip in net for net in self.networks)

    def client(self, scope: Any) -> Client | None:
        """The client of `scope`: the first hop, from the right, that is not a trusted proxy."""
        peer: Client | None = scope.get("client")
        if peer is None or not self.trusts(peer[0]):
            return peer
        hops = [
            hop.strip()
            for name, value in scope["headers"]
            if name == b"x-forwarded-for"
            for hop in value.decode("latin-1").split(",")
        ]
        # each proxy appends the address it was called from: the right-most hops are ours
        for hop in reversed(hops):
            if not self.trusts(hop):
                return (hop, 0) if hop else peer
        return (hops[0], 0) if hops else peer  # a chain of trusted proxies only
