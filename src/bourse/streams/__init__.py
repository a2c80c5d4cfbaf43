"""Real-time streams (Binance's WebSocket market streams), fed from released outcomes only, so
every stream agrees with REST: names.py parses stream names, hub.py fans encoded messages out to
subscribers without ever waiting for one, market_feed.py turns outcomes into stream events."""
