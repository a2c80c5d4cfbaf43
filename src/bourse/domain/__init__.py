"""Pure value types of the exchange: assets, symbols, filters, integer money, reject codes."""
