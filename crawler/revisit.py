"""When to ask a server again for a report page or file the archive already holds.

Lists and navigation pages are read on every run: that is where new reports appear and where a
report stops being listed. A report's own page and files are leaves: they are revalidated
(conditional requests) on an adaptive schedule, the way incremental web archives revisit
(Heritrix's adaptive revisit): after `min_days`, then twice as long after each check that found
the same bytes, never longer than `max_days`; a change starts the count again. A leaf not yet due
is not requested: its report still counts as seen when a list still links it. What a run can
then not notice until the leaf is next due: the bytes at its URL replaced, or the URL answering
404 while still listed. `min_days: 0` (or `nianbao crawl --revisit-all`) revalidates everything.
"""
from __future__ import annotations

from datetime import datetime, timedelta

# A schedule fires at about the same time each day or week; a check made a little less than one
# interval ago is due, or a daily crawl would skip a day whenever it started a minute early.
SLACK = 0.9


def interval(unchanged_checks: int, *, min_days: float, max_days: float) -> timedelta:
    """How long to wait after a check, having found the same bytes `unchanged_checks` times in a row."""
    days = min_days * (2 ** min(max(unchanged_checks, 0), 32))
    return timedelta(days=min(days, max(max_days, min_days)))


def is_due(last_checked: datetime | None, unchanged_checks: int, now: datetime, *,
           min_days: float, max_days: float) -> bool:
    """Whether a known leaf URL should be asked for again now."""
    if last_checked is None or min_days <= 0:
        return True
    wait = interval(unchanged_checks, min_days=min_days, max_days=max_days)
    return now - last_checked >= wait * SLACK
