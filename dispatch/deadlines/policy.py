"""The escalation policy: when each level and reminder is due and who hears of it. Pure.

Each deadline of an assignment (acknowledge, resolve) moves through stages, kept on the
assignment row (``ack_stage``, ``resolve_stage``):

    stage 0  nothing sent
    stage 1  reminder (催办) sent, at ``reminder_fraction`` of the allowed time
    stage L+1  escalated (督办) at level L

Level 1 is due at the deadline; level L+1 is due ``intervals[L-1]`` seconds after level L
(``DISPATCH_ESCALATION_INTERVALS="300,900"``: level 2 five minutes after the deadline,
level 3 twenty minutes after it). A level is sent once per deadline round; a reopened
assignment starts a new round.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

DeadlineKind = Literal["ack", "resolve"]
KINDS: Final[tuple[DeadlineKind, ...]] = ("ack", "resolve")
REMINDER_STAGE: Final = 1

Audience = Literal["none", "agency", "all"]


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    """Levels, their intervals and the reminder fraction, from the settings."""

    intervals: tuple[float, ...] = (300.0, 900.0)
    reminder_fraction: float | None = None

    @property
    def levels(self) -> int:
        """How many escalation levels there are (1 + the number of intervals)."""
        return 1 + len(self.intervals)

    def offset(self, level: int) -> float:
        """Seconds after the deadline at which ``level`` is due."""
        if not 1 <= level <= self.levels:
            raise ValueError(f"no escalation level {level}; levels are 1 to {self.levels}")
        return float(sum(self.intervals[: level - 1]))

    @staticmethod
    def stage_after(level: int) -> int:
        """The stage a deadline is in once escalated at ``level`` (0: reminded)."""
        return level + 1 if level >= 1 else REMINDER_STAGE

    @staticmethod
    def stages_before(level: int) -> tuple[int, ...]:
        """The stages from which ``level`` is the next escalation."""
        return (0, REMINDER_STAGE) if level == 1 else (level,)

    @staticmethod
    def level_of_stage(stage: int) -> int:
        """The highest escalation level sent at ``stage`` (0: none)."""
        return max(0, stage - 1)


def audience(level: int, priority: str) -> Audience:
    """Which supervisors hear of it besides the desk: none for a reminder (level 0), its
    agency's at level 1, all of them at level 2 and above, and all at once for a P1 (紧急)."""
    if level == 0:
        return "none"
    return "all" if priority == "P1" or level >= 2 else "agency"


def notified_supervisors(audience_: Audience, agency: str, supervisors: list[tuple[int, str | None]]) -> list[int]:
    """Ids of the supervisors who hear of it, from ``(id, agency)`` of every live supervisor.

    Supervisors without an agency oversee the whole city: they hear of everything sent to
    "all", and of an agency's escalations when that agency has no supervisor of its own
    (so that no escalation goes to nobody).
    """
    if audience_ == "none":
        return []
    if audience_ == "all":
        return [sid for sid, _ in supervisors]
    own = [sid for sid, sup_agency in supervisors if sup_agency == agency]
    return own or [sid for sid, sup_agency in supervisors if sup_agency is None]
