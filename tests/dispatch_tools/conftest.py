"""The escalation bench runs on the deadline tests' scratch database."""

from tests.deadlines.conftest import deadline_dsn, dl_clean, dl_pool

__all__ = ["deadline_dsn", "dl_clean", "dl_pool"]
