"""Time limits counted in months, the way Japanese law counts them.

A consent given on some day and limited to N months (DUO TS) ends by the Civil Code (民法):
the day of consent is not counted (Art. 140, 初日不算入), so counting starts the next day, and the
period ends on the day before the corresponding day N months later; when that month has no
corresponding day, it ends on the month's last day (Art. 143). Two consequences worth knowing:
consent on 15 January for 1 month covers up to and including 15 February; consent on the last day of
a month covers up to the last day of the month N months later (28 February 2027 + 1 → 31 March).
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta


def time_limit_end(consented_at: date, months: int) -> date:
    """The last day on which use is still within ``months`` months of consent given on ``consented_at``."""
    if months < 1:
        raise ValueError("a time limit is at least one month")
    try:
        start = consented_at + timedelta(days=1)
        year, month_index = divmod(start.month - 1 + months, 12)
        year += start.year
        month = month_index + 1
        last_day = calendar.monthrange(year, month)[1]
        if start.day > last_day:
            return date(year, month, last_day)
        return date(year, month, start.day) - timedelta(days=1)
    except (OverflowError, ValueError):
        # Past year 9999 the limit cannot be reached by any date we can be asked about.
        return date.max
