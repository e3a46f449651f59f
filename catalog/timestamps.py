"""Dates and times sent by clients, held to what every database can store.

Python reads offsets up to ±23:59 and any year from 1 to 9999 in the sender's zone; PostgreSQL
refuses an offset of 16 hours or more ("time zone displacement out of range"), and a time
that falls outside years 1-9999 once in UTC can't be read back into Python. One rule for every
place a client's time comes in (ingestion, the resource query, the event log): such a value is
the client's mistake, answered with a message naming it, never a database error.
"""

import datetime as dt

from django.utils.dateparse import parse_date, parse_datetime

#: PostgreSQL stores offsets up to 15:59:59 either way; the world's zones span -12:00 to +14:00.
MAX_OFFSET = dt.timedelta(hours=16)
#: Longer than any ISO 8601 date and time: parsing more is wasted work.
MAX_LENGTH = 64


class OutOfRange(ValueError):
    """A well-formed date and time no database can store; the message says why."""


def parse_moment(value: str) -> dt.datetime | None:
    """`value` (an ISO 8601 date and time, or a date: its midnight) as an aware datetime in
    UTC; naive values are UTC. None when it is not ISO 8601 (or an impossible date, such as
    2026-02-30); OutOfRange when it is, but can't be stored."""
    if len(value) > MAX_LENGTH:
        return None
    try:
        moment = parse_datetime(value)
        if moment is None and (day := parse_date(value)) is not None:
            moment = dt.datetime.combine(day, dt.time())
    except ValueError:  # month 13, or an offset of 24 hours
        return None
    if moment is None:
        return None
    offset = moment.utcoffset()
    if offset is None:
        return moment.replace(tzinfo=dt.UTC)
    if abs(offset) >= MAX_OFFSET:
        raise OutOfRange(
            f"{value} has a UTC offset of {_offset(offset)}; an offset is at most "
            "±15:59 (the world's time zones span -12:00 to +14:00)."
        )
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:
        edge = "after the year 9999" if offset < dt.timedelta(0) else "before the year 1"
        raise OutOfRange(f"{value} is {edge} in UTC, out of the range 0001-9999.") from None


def _offset(offset: dt.timedelta) -> str:
    sign = "-" if offset < dt.timedelta(0) else "+"
    minutes = int(abs(offset).total_seconds()) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
