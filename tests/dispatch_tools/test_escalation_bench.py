"""The escalation benchmark's machinery, small: it seeds, watches and measures. (The figure
itself comes from running ``dispatch bench-escalation``; tests never judge speed.)"""

from __future__ import annotations

from dispatch.deadlines.policy import EscalationPolicy
from dispatch_tools.bench.escalation import run_benchmark


async def test_benchmark_escalates_every_seeded_deadline_once_and_reports_lag(
    deadline_dsn: str, dl_clean: None
) -> None:
    report = await run_benchmark(
        deadline_dsn, assignments=500, spread=1.0, lead_in=0.5, policy=EscalationPolicy(intervals=(60.0,))
    )
    assert (report.escalated, report.duplicates, report.open_assignments) == (500, 0, 500)
    assert report.p50 is not None and report.p99 is not None and report.p50 <= report.p99 <= report.max  # type: ignore[operator]
