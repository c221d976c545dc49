"""Which month an archive holds, and which of its tickets.

A month is a calendar month of local time (Asia/Shanghai, as ticket numbers and reports read
it), and a ticket belongs to the month it was created in (``created_at``): that never changes,
so a month's archive is one well-defined set, whatever happens to its tickets later.

An archive takes only finished work: a month with a ticket still open (new, dispatched,
acknowledged, in progress, or resolved and awaiting the citizen's feedback, which may reopen
it) is refused with the open tickets' numbers. A finished ticket that a ticket of another month
refers to (a duplicate merged into it, a report moved from it) is held back: it stays in the
database, so that nothing left there points at a row that is gone, and the manifest lists it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

import asyncpg

from dispatch.errors import ArchiveError

LOCAL_ZONE: Final = ZoneInfo("Asia/Shanghai")

# Statuses after which a ticket no longer changes (``resolved`` still may: feedback reopens it).
FINISHED: Final = ("closed", "merged", "cancelled", "answered")

# The temporary table that holds the ids of the tickets an archive takes, for the statements
# of tables.py; it lives as long as the transaction that chose them.
CHOSEN: Final = "archive_ticket_ids"

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, slots=True, order=True)
class Month:
    """A calendar month, written ``YYYY-MM``."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """``2023-11`` as a Month; anything else is an ArchiveError."""
        match = _MONTH.match(text.strip())
        if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
            raise ArchiveError(f"{text!r} is not a month: write YYYY-MM, e.g. 2023-11")
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> datetime:
        """Its first instant, local time."""
        return datetime(self.year, self.month, 1, tzinfo=LOCAL_ZONE)

    @property
    def end(self) -> datetime:
        """The first instant of the next month, local time."""
        if self.month == 12:
            return datetime(self.year + 1, 1, 1, tzinfo=LOCAL_ZONE)
        return datetime(self.year, self.month + 1, 1, tzinfo=LOCAL_ZONE)

    def require_past(self, now: datetime) -> None:
        """Refuse a month that has not ended yet."""
        if self.end > now:
            raise ArchiveError(f"{self} has not ended yet: a month is archived once it is over")


async def choose_tickets(conn: asyncpg.Connection, month: Month) -> list[str]:
    """Fill the temporary table ``archive_ticket_ids`` (dropped at the end of the transaction,
    which must be open) with the month's tickets that an archive takes, and return the numbers
    of those held back. Refuses a month with open work."""
    open_count, open_numbers = await conn.fetchrow(
        f"""
        SELECT count(*), (array_agg(number ORDER BY id))[1:5]
        FROM tickets
        WHERE created_at >= $1 AND created_at < $2 AND status NOT IN {_finished_sql()}
        """,
        month.start,
        month.end,
    )
    if open_count:
        shown = ", ".join(open_numbers)
        more = f" and {open_count - len(open_numbers)} more" if open_count > len(open_numbers) else ""
        raise ArchiveError(
            f"{month} has {open_count} open ticket(s) ({shown}{more}): an archive takes finished work only;"
            " close or cancel them first"
        )
    await conn.execute(f"CREATE TEMPORARY TABLE {CHOSEN} (id bigint PRIMARY KEY) ON COMMIT DROP")
    await conn.execute(
        f"INSERT INTO {CHOSEN} SELECT id FROM tickets WHERE created_at >= $1 AND created_at < $2",
        month.start,
        month.end,
    )
    # Hold back what a row staying in the database refers to; holding one back may make
    # another one referred to from outside, hence until nothing changes.
    while True:
        status = await conn.execute(
            f"""
            DELETE FROM {CHOSEN} c
            WHERE EXISTS (SELECT 1 FROM tickets t WHERE t.merged_into = c.id
                          AND NOT EXISTS (SELECT 1 FROM {CHOSEN} o WHERE o.id = t.id))
               OR EXISTS (SELECT 1 FROM reports r WHERE r.moved_from = c.id
                          AND NOT EXISTS (SELECT 1 FROM {CHOSEN} o WHERE o.id = r.ticket_id))
            """
        )
        if status == "DELETE 0":
            break
    held: list[str] = await conn.fetchval(
        f"""
        SELECT coalesce(array_agg(number ORDER BY id), '{{}}') FROM tickets
        WHERE created_at >= $1 AND created_at < $2 AND id NOT IN (SELECT id FROM {CHOSEN})
        """,
        month.start,
        month.end,
    )
    await conn.execute(f"ANALYZE {CHOSEN}")
    return held


def _finished_sql() -> str:
    return "(" + ", ".join(f"'{s}'" for s in FINISHED) + ")"
