"""Benchmarks: ``dispatch bench`` and its modes."""
