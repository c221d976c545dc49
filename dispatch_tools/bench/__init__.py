"""Benchmarks: ``throughput`` (``dispatch bench``) and ``escalation`` (``dispatch bench-escalation``)."""
