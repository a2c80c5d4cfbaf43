"""Who a request comes from: the peer, or what a proxy the operator named says in
X-Forwarded-For; never what anyone else says (a banned or non-allow-listed client would
otherwise choose its own address)."""

import pytest

from bourse.api.client_ip import TrustedProxies

PEER = ("127.0.0.1", 40000)
# (trusted proxies, peer, X-Forwarded-For headers, the client it resolves to)
CASES = [
    ([], PEER, ["203.0.113.7"], PEER),  # none named: the header is ignored
    (["10.0.0.0/8"], PEER, ["203.0.113.7"], PEER),  # the peer is not a named proxy
    (["127.0.0.1"], PEER, ["203.0.113.7"], ("203.0.113.7", 0)),
    (["127.0.0.1"], PEER, [], PEER),  # the proxy itself calls
    (["127.0.0.1"], PEER, [""], PEER),
    # a client's own forged entries sit left of what the proxy appended: the right-most wins
    (["127.0.0.1"], PEER, ["198.51.100.1, 203.0.113.7"], ("203.0.113.7", 0)),
    (["127.0.0.1"], PEER, ["198.51.100.1", "203.0.113.7"], ("203.0.113.7", 0)),
    # a chain of named proxies is walked from the right to the first address not among them
    (["127.0.0.1", "10.0.0.0/8"], PEER, ["203.0.113.7, 10.1.2.3"], ("203.0.113.7", 0)),
    (["127.0.0.1", "10.0.0.0/8"], PEER, ["10.9.9.9, 10.1.2.3"], ("10.9.9.9", 0)),
    (["::1"], ("::1", 5), ["2001:db8::1"], ("2001:db8::1", 0)),
    (["127.0.0.1"], ("::ffff:127.0.0.1", 5), ["203.0.113.7"], ("203.0.113.7", 0)),
    (["127.0.0.0/8"], PEER, ["not-an-ip"], ("not-an-ip", 0)),  # matches no allow-list
]


@pytest.mark.parametrize(("trusted", "peer", "forwarded", "client"), CASES)
def test_client_address(
    trusted: list[str],
    peer: tuple[str, int],
    forwarded: list[str],
    client: tuple[str, int],
) -> None:
    headers = [(b"x-forwarded-for", v.encode()) for v in forwarded]
    scope = {"type": "http", "client": peer, "headers": headers}
    assert TrustedProxies(trusted).client(scope) == client


@pytest.mark.parametrize("bad", ["localhost", "10.0.0.0/33", ""])
def test_a_proxy_that_is_no_address_is_refused_by_name(bad: str) -> None:
    with pytest.raises(ValueError, match=repr(bad)):
        TrustedProxies([bad])
