"""Times for people: "2026-11-25 15:22 UTC (3 days ago)", from an SES/botocore datetime or a stored
ISO timestamp; and the stored form itself (:func:`iso`), which the parser processes of an ingest need
without the store.

    >>> from datetime import UTC, datetime
    >>> when("2026-11-25T15:22:00.000Z", datetime(2026, 11, 28, 16, 0, tzinfo=UTC))
    '2026-11-25 15:22 UTC (3 days ago)'
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    """The one timestamp format in the store: UTC, milliseconds, 'Z' — it sorts as text."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_ts(value: Any) -> datetime | None:
    """A timezone-aware datetime from a datetime or an ISO 8601 string ('Z' accepted); None otherwise."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not value or not isinstance(value, str):
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def span(delta: timedelta) -> str:
    """'5 minutes', '1 hour', '3 days'."""
    seconds = int(delta.total_seconds())
    if seconds < 3600:
        n, unit = max(1, seconds // 60), "minute"
    elif seconds < 86400:
        n, unit = seconds // 3600, "hour"
    else:
        n, unit = seconds // 86400, "day"
    return f"{n} {unit}{'s' if n != 1 else ''}"


def duration(delta: timedelta) -> str:
    """How long something lasted, to the minute in two units: '25 minutes', '1 hour 59 minutes', '1 day 23
    hours' (`span` gives one unit, rounded down, for "3 days ago")."""
    minutes = max(1, round(delta.total_seconds() / 60))
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    parts = [(days, "day"), (hours, "hour"), (minutes, "minute")]
    named = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n]
    return " ".join(named[:2])


def when(value: Any, now: datetime) -> str:
    """The UTC time and how long ago it was (or how far ahead: an expiry)."""
    dt = parse_ts(value)
    if dt is None:
        return str(value) if value else "at an unknown time"
    delta = now - dt
    if delta < timedelta(0):
        ago = f"in {span(-delta)}"
    elif delta < timedelta(minutes=1):
        ago = "just now"
    else:
        ago = f"{span(delta)} ago"
    return f"{dt.astimezone(UTC).strftime('%Y-%m-%d %H:%M UTC')} ({ago})"


_DURATION = re.compile(r"^(\d{1,4})\s*(m|min|mins|minutes?|h|hr|hrs|hours?|d|days?)$", re.I)


def parse_duration(text: str) -> timedelta | None:
    """'30m', '2h', '1 day' -> a timedelta; None for anything else."""
    m = _DURATION.match((text or "").strip())
    if not m:
        return None
    n, unit = int(m.group(1)), m.group(2)[0].lower()
    return timedelta(minutes=n) if unit == "m" else timedelta(hours=n) if unit == "h" else timedelta(days=n)
