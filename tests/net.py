"""Loopback helpers for tests that start servers: the bench's own free port, and one HTTP client
for the tests' one-off requests."""

import httpx

from bourse.bench.api_bench import free_port

# `httpx.get` builds a client, and with it a TLS context that loads the CA bundle (about 30 ms of
# CPU), for every call: a loop polling a starting server spent a core on it, taken from the
# server it waited for. This one is built once; without keep-alive, each request still has a
# connection of its own, as with `httpx.get`.
http = httpx.Client(limits=httpx.Limits(max_keepalive_connections=0))

__all__ = ["free_port", "http"]
