"""The escalation policy, pure: when each level is due and who hears of it."""

from __future__ import annotations

import pytest

from dispatch.deadlines.policy import EscalationPolicy, audience, notified_supervisors
from dispatch.errors import ConfigError
from dispatch.runtime.settings import load_settings


def test_levels_follow_the_intervals_cumulatively() -> None:
    policy = EscalationPolicy(intervals=(300.0, 900.0))
    assert policy.levels == 3
    assert [policy.offset(level) for level in (1, 2, 3)] == [0.0, 300.0, 1200.0]
    with pytest.raises(ValueError):
        policy.offset(4)


def test_who_hears_of_it_widens_with_the_level_and_at_once_for_p1() -> None:
    supervisors = [(1, "police"), (2, "urban"), (3, None)]
    assert notified_supervisors(audience(0, "P1"), "police", supervisors) == []  # a reminder: the desk alone
    assert notified_supervisors(audience(1, "P3"), "police", supervisors) == [1]
    assert notified_supervisors(audience(1, "P3"), "health", supervisors) == [3]  # no own supervisor: city-wide
    assert notified_supervisors(audience(2, "P3"), "police", supervisors) == [1, 2, 3]
    assert notified_supervisors(audience(1, "P1"), "police", supervisors) == [1, 2, 3]


def test_settings_read_intervals_and_reminders_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPATCH_ESCALATION_INTERVALS", "60, 120")
    monkeypatch.setenv("DISPATCH_REMINDER_FRACTION", "off")
    settings = load_settings()
    assert settings.escalation_intervals == (60.0, 120.0) and settings.reminder_fraction is None
    monkeypatch.setenv("DISPATCH_ESCALATION_INTERVALS", "60,-1")
    with pytest.raises(ConfigError, match="DISPATCH_ESCALATION_INTERVALS"):
        load_settings()
