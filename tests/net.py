"""Loopback helpers for tests that start servers: the bench's own, one helper for both."""

from bourse.bench.api_bench import free_port

__all__ = ["free_port"]
