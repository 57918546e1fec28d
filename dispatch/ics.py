"""Calendar blocks for an assignment: the estimate booked on the working days before the deadline."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from core.calendar import BusinessCalendar

WORKDAY_START = time(9, 0)
MAX_HOURS_PER_DAY = 8.0


def block_days(
    *, due: date, hours: float, calendar: BusinessCalendar, today: date
) -> list[tuple[date, float]]:
    """Business days before ``due`` (latest first, never before today) holding ``hours``.

    Whatever does not fit before the deadline lands on the due date itself.
    """
    blocks: list[tuple[date, float]] = []
    remaining = hours
    day = calendar.add_business_days(due, -1)
    while remaining > 1e-9 and day >= today:
        chunk = min(MAX_HOURS_PER_DAY, remaining)
        blocks.append((day, chunk))
        remaining -= chunk
        day = calendar.add_business_days(day, -1)
    if remaining > 1e-9:
        blocks.append((due, remaining))
    return sorted(blocks)


def assignment_calendar(
    *,
    uid_prefix: str,
    summary: str,
    description: str,
    url: str,
    due: date,
    hours: float,
    calendar: BusinessCalendar,
    today: date,
    tz_name: str,
) -> bytes:
    tz = ZoneInfo(tz_name)
    cal = Calendar()
    cal.add("prodid", "-//Closeloop//Assignments//EN")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    for index, (day, chunk) in enumerate(
        block_days(due=due, hours=hours, calendar=calendar, today=today)
    ):
        start = datetime.combine(day, WORKDAY_START, tzinfo=tz)
        event = Event()
        event.add("uid", f"{uid_prefix}-{index}@closeloop")
        event.add("summary", summary)
        event.add("description", description)
        event.add("url", url)
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(minutes=math.ceil(chunk * 60)))
        event.add("dtstamp", datetime.now(tz=ZoneInfo("UTC")))
        event.add("transp", "OPAQUE")
        cal.add_component(event)
    return cal.to_ical()
