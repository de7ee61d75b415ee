"""Timestamps as integer seconds since the Unix epoch (UTC), formatted as ISO-8601 with a `Z`.

`datetime` objects cost microseconds each; a generator writing millions of timestamps formats
them from integers, caching the date part (a run touches only a few thousand distinct days).
"""

from __future__ import annotations

import datetime as dt

DAY = 86_400
HOUR = 3_600
MINUTE = 60
_EPOCH = dt.date(1970, 1, 1)


def day_start(date: dt.date) -> int:
    """Epoch seconds of midnight UTC at the start of `date`."""
    return (date - _EPOCH).days * DAY


_DATE_PREFIXES: dict[int, str] = {}  # a run touches a few thousand days at most


def _date_prefix(epoch_day: int) -> str:
    prefix = (_EPOCH + dt.timedelta(days=epoch_day)).isoformat() + "T"
    _DATE_PREFIXES[epoch_day] = prefix
    return prefix


# "HH:MM:SSZ" for every second of a day (86,400 short strings, ~6 MB): formatting a timestamp is
# then one divmod and two lookups, the generator's hottest path.
_TIME_OF_DAY = tuple(f"{s // HOUR:02d}:{s % HOUR // MINUTE:02d}:{s % MINUTE:02d}Z" for s in range(DAY))


def iso(ts: int) -> str:
    """`2026-11-01T08:15:02Z` for epoch second `ts`."""
    epoch_day, second = divmod(ts, DAY)
    prefix = _DATE_PREFIXES.get(epoch_day) or _date_prefix(epoch_day)
    return prefix + _TIME_OF_DAY[second]
