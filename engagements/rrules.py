"""Recurrence rules (RFC 5545 RRULE) as a firm types them, checked part by part so a
mistake is explained in words ("BYDAY takes two-letter days ...") rather than with
the parser's message, and a rule that never happens (February 30) is refused.

Plain Python (dateutil); ``today`` is passed in.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from dateutil.rrule import rrulestr

FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
PARTS = {
    "FREQ",
    "INTERVAL",
    "COUNT",
    "UNTIL",
    "BYDAY",
    "BYMONTHDAY",
    "BYMONTH",
    "BYSETPOS",
    "BYYEARDAY",
    "BYWEEKNO",
    "WKST",
}
WEEKDAY = re.compile(r"^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")
UNTIL = re.compile(r"^(\d{4})(\d{2})(\d{2})(T\d{6}Z?)?$")
# A rule must produce a date within this long of today to mean anything to a firm.
HORIZON_YEARS = 5
EXAMPLE = "e.g. FREQ=MONTHLY;BYMONTHDAY=15 or FREQ=WEEKLY;INTERVAL=2;BYDAY=FR"


def _numbers(value: str, low: int, high: int, *, zero: bool = False) -> bool:
    try:
        numbers = [int(item) for item in value.split(",")]
    except ValueError:
        return False
    return all(low <= n <= high and (zero or n != 0) for n in numbers)


def _part_problem(key: str, value: str) -> str | None:
    if key == "FREQ" and value not in FREQUENCIES:
        return f"FREQ is DAILY, WEEKLY, MONTHLY or YEARLY, not {value}."
    if key == "INTERVAL" and not _numbers(value, 1, 366):
        return "INTERVAL is a whole number from 1 (every time) to 366, e.g. INTERVAL=2 for every other."
    if key == "COUNT" and not _numbers(value, 1, 1000):
        return "COUNT is how many times it happens: a whole number from 1 to 1,000."
    if key == "BYDAY":
        bad = [item for item in value.split(",") if not WEEKDAY.match(item)]
        if bad:
            return (
                "BYDAY takes two-letter days (MO, TU, WE, TH, FR, SA, SU), optionally numbered "
                f"(1MO: the first Monday, -1FR: the last Friday); “{bad[0]}” is not one."
            )
    if key == "BYMONTHDAY" and not _numbers(value, -31, 31):
        return "BYMONTHDAY takes days of the month, 1 to 31, or -1 for the last day."
    if key == "BYMONTH" and not _numbers(value, 1, 12):
        return "BYMONTH takes months, 1 (January) to 12 (December)."
    if key == "BYSETPOS" and not _numbers(value, -366, 366):
        return "BYSETPOS picks among the dates: 1 for the first, -1 for the last."
    if key == "BYYEARDAY" and not _numbers(value, -366, 366):
        return "BYYEARDAY takes days of the year, 1 to 366."
    if key == "BYWEEKNO" and not _numbers(value, -53, 53):
        return "BYWEEKNO takes weeks of the year, 1 to 53."
    if key == "WKST" and value not in ("MO", "TU", "WE", "TH", "FR", "SA", "SU"):
        return "WKST is the day weeks start on: MO to SU."
    if key == "UNTIL":
        match = UNTIL.match(value)
        try:
            if match is None:
                raise ValueError
            date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            return "UNTIL is the last date as YYYYMMDD, e.g. UNTIL=20271231."
    return None


def rrule_problem(value: str, *, today: date) -> str | None:
    """What is wrong with ``value`` as a recurrence rule, in words; None when it is fine."""
    text = value.strip()
    if not text:
        return None
    text = text.removeprefix("RRULE:")
    seen: dict[str, str] = {}
    for part in (piece.strip() for piece in text.split(";")):
        if not part:
            continue
        key, sign, rest = part.partition("=")
        key, rest = key.strip().upper(), rest.strip().upper()
        if not sign or not key or not rest:
            return f"“{part}” is not NAME=VALUE; separate the parts with semicolons ({EXAMPLE})."
        if key not in PARTS:
            return (
                f"{key} is not a part of a recurrence rule; use FREQ, INTERVAL, BYDAY, "
                "BYMONTHDAY, BYMONTH, BYSETPOS, COUNT or UNTIL."
            )
        if key in seen:
            return f"{key} is given twice."
        seen[key] = rest
        problem = _part_problem(key, rest)
        if problem:
            return problem
    if "FREQ" not in seen:
        return f"Say how often with FREQ (DAILY, WEEKLY, MONTHLY or YEARLY), {EXAMPLE}."
    if "COUNT" in seen and "UNTIL" in seen:
        return "Give COUNT or UNTIL, not both."
    start = datetime.combine(today, time())
    try:
        rule = rrulestr(";".join(f"{k}={v}" for k, v in seen.items()), dtstart=start)
        first = rule.after(start - timedelta(days=1), inc=True)
    except (ValueError, TypeError, OverflowError) as exc:
        return f"This rule cannot be read ({exc}); {EXAMPLE}."
    horizon = start + timedelta(days=366 * HORIZON_YEARS)
    if first is None or first > horizon:
        return (
            f"This rule gives no date in the next {HORIZON_YEARS} years: a day that never "
            "comes (February 30 never comes, nor the 31st in a 30-day month) or an UNTIL "
            "already past. Check BYMONTH, BYMONTHDAY and UNTIL."
        )
    return None
