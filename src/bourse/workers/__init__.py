"""Slow work beside the engine (sanctions screening, list downloads and refreshes, rescreens,
payee checks, the policy driver): each re-enters the engine only as a command citing its
evidence."""
