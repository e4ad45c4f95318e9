"""Calendar months in UTC, in integer arithmetic: stewardship and audit
terms run in whole months (a quarter, a year) so that they line up with the
accounts people keep, and every implementation must cut them at the same
millisecond, without a time zone database or floating point.

A month is numbered from January 1970 (month 0), in the proleptic Gregorian
calendar. The conversion from days to a civil date is Howard Hinnant's
``civil_from_days`` and back ``days_from_civil``, exact for every integer.
"""

from __future__ import annotations

DAY_MS = 86_400_000


def month_of(at_ms: int) -> int:
    """The number of the UTC month that holds ``at_ms`` (0: January 1970)."""
    year, month, _ = civil_from_days(at_ms // DAY_MS)
    return (year - 1970) * 12 + (month - 1)


def month_start_ms(month: int) -> int:
    """The first millisecond of month number ``month``."""
    year, index = divmod(month, 12)
    return days_from_civil(1970 + year, index + 1, 1) * DAY_MS


def civil_from_days(days: int) -> tuple[int, int, int]:
    """(year, month 1-12, day 1-31) of the day ``days`` after 1970-01-01."""
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (month <= 2), month, day


def days_from_civil(year: int, month: int, day: int) -> int:
    """The number of days from 1970-01-01 to the given civil date."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    mp = month + 9 if month <= 2 else month - 3
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468
