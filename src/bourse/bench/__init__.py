"""Benchmarks: measured by commands that print JSON, never asserted in tests."""
