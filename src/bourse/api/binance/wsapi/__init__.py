"""Binance's WebSocket API (web-socket-api.md) at `/ws-api/v3`: the request/response envelope
(`frames`), session logon and signed requests (`session`), and the methods (`methods`), each the
same operation as its REST route in `bourse.api.binance`."""

from bourse.api.binance.wsapi.router import PATH, router

__all__ = ["PATH", "router"]
