"""Deadlines: escalation (督办) and reminders (催办) for overdue assignments, and pausing the
clock while an assignment waits on the citizen.

- ``policy``: when each level is due and who hears of it (pure)
- ``store``: the SQL (what is due, sending once, pause and resume)
- ``watcher``: the background loop, one leader across all server processes

Its benchmark (``dispatch bench-escalation``) is ``dispatch_tools/bench/escalation.py``.
"""
