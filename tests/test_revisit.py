"""The revisit schedule of report pages and files, from a table."""
from datetime import datetime, timedelta, timezone

import pytest

from crawler.revisit import interval, is_due

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)


@pytest.mark.parametrize("checks,min_days,max_days,wait", [
    (0, 1, 30, 1 * DAY),
    (1, 1, 30, 2 * DAY),
    (3, 1, 30, 8 * DAY),
    (5, 1, 30, 30 * DAY),          # capped
    (500, 1, 30, 30 * DAY),        # no overflow
    (0, 7, 30, 7 * DAY),
    (2, 7, 3, 7 * DAY),            # a max below the min means the min
    (-1, 1, 30, 1 * DAY),
])
def test_interval(checks, min_days, max_days, wait):
    assert interval(checks, min_days=min_days, max_days=max_days) == wait


@pytest.mark.parametrize("ago,checks,min_days,due", [
    (None, 0, 1, True),                      # never checked
    (timedelta(minutes=5), 0, 1, False),     # the same day: not yet
    (DAY - timedelta(minutes=30), 0, 1, True),   # yesterday's scheduled run, started a bit later
    (DAY, 1, 1, False),                      # unchanged once: wait two days
    (2 * DAY, 1, 1, True),
    (20 * DAY, 10, 1, False),                # long unchanged: up to 30 days
    (30 * DAY, 10, 1, True),
    (timedelta(seconds=1), 9, 0, True),      # min_days 0: always revalidate
])
def test_is_due(ago, checks, min_days, due):
    last = None if ago is None else NOW - ago
    assert is_due(last, checks, NOW, min_days=min_days, max_days=30) is due
