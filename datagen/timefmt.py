"""Timestamps as integer seconds since the Unix epoch (UTC), formatted as ISO-8601 with a `Z`.

`datetime` objects cost microseconds each; a generator writing millions of timestamps formats
them from integers, caching the date part (a run touches only a few thousand distinct days).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

DAY = 86_400
HOUR = 3_600
MINUTE = 60
_EPOCH = dt.date(1970, 1, 1)


def day_start(date: dt.date) -> int:
    """Epoch seconds of midnight UTC at the start of `date`."""
    return (date - _EPOCH).days * DAY


@lru_cache(maxsize=8192)
def _date_text(epoch_day: int) -> str:
    return (_EPOCH + dt.timedelta(days=epoch_day)).isoformat()


def iso(ts: int) -> str:
    """`2026-11-01T08:15:02Z` for epoch second `ts`."""
    epoch_day, second = divmod(ts, DAY)
    hour, rest = divmod(second, HOUR)
    minute, sec = divmod(rest, MINUTE)
    return f"{_date_text(epoch_day)}T{hour:02d}:{minute:02d}:{sec:02d}Z"
