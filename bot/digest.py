"""The daily digest: the last 24 hours of sending against the day before and the same day a week before.

Volume, delivery, bounce and complaint rates (each with its change), the recipient domains and categories
with the most bounces, the account-wide rates as the last sweep read them (CloudWatch's, or the history's
estimate), and the open incidents.
The figures are the bot's history (`bot.history`: hourly counters and the problem events), so they are what
the bot received; CloudWatch's are AWS's and are what the review and pause levels apply to.

`sesbot digest` prints it; with `SESBOT_DIGEST_AT=09:00` the scheduler owes it once a day in the alert
channel (`owe_digest`, then the outbox delivers it like every other message).

The day is the 24 hours up to the current hour (floored: the counters are hourly), so a digest at 09:00 is
09:00 yesterday to 09:00 today.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot import history
from bot.alerts.levels import LEVEL_SEVERITY, RATE_METRICS, signal_label
from bot.alerts.messages import fmt_pct, upper_first
from bot.alerts.summary import when
from bot.alerts.transitions import Owed, insert_owed
from bot.deps import Deps
from bot.findings import Answer, Severity, where
from bot.incidents import incident_dict, incident_line, open_incidents
from bot.notify import Message
from bot.store import iso

CATCH_UP = timedelta(hours=6)  # a bot down at the digest's time still posts it if back within this long
DAY = timedelta(days=1)
WEEK = timedelta(days=7)
TOP = 5  # domains and categories listed
RATES = (("delivery_rate", "delivery rate"), ("bounce_rate", "bounce rate"), ("complaint_rate", "complaint rate"))


def _figures(deps: Deps, since: datetime, until: datetime) -> dict[str, Any]:
    f = history.rate_estimate(deps.store, since, until)
    f["delivery_rate"] = f["deliveries"] / f["sends"] if f["sends"] else None
    return f


def _volume_change(now: int, before: int) -> str:
    if not before:
        return "no sends"
    return f"{before:,} ({(now - before) / before * 100:+.1f}%)"


def _rate_change(now: float | None, before: float | None) -> str:
    if before is None:
        return "no sends"
    if now is None:
        return fmt_pct(before)
    points = f"{(now - before) * 100:+.2f}".rstrip("0").rstrip(".")  # "+12.5", "+100", "+0.05", "-3"
    return f"{fmt_pct(before)} ({points} points)"


def _cloudwatch_lines(deps: Deps) -> tuple[list[str], list[dict[str, Any]]]:
    """The account-wide rates the last sweep read, per account and region (AWS's own figures)."""
    marks = ", ".join("?" for _ in RATE_METRICS)
    rows = deps.store.query(
        f"SELECT account, region, signal, value, estimate, level, updated_at FROM alert_state "
        f"WHERE signal IN ({marks}) AND scope = '' ORDER BY account, region, signal",
        list(RATE_METRICS),
    )
    lines = []
    for r in rows:
        source = "estimate from the history" if r["estimate"] else "CloudWatch"
        figure = fmt_pct(r["value"]) if r["value"] is not None else "no data"
        lines.append(
            f"{upper_first(signal_label(r['signal']))} in {where(r['account'], r['region'])}: {figure} "
            f"({source}, as of the sweep at {when(r['updated_at'])})"
        )
    return lines, rows


def digest_answer(deps: Deps, now: datetime | None = None) -> Answer:
    """The digest of the 24 hours up to the current hour, against the day before and a week before."""
    now = now or deps.now()
    end = now.replace(minute=0, second=0, microsecond=0)
    day = _figures(deps, end - DAY, end)
    previous = _figures(deps, end - 2 * DAY, end - DAY)
    week = _figures(deps, end - DAY - WEEK, end - WEEK)
    volume = f"{day['sends']:,} sends; the day before {_volume_change(day['sends'], previous['sends'])}"
    volume += f"; a week before {_volume_change(day['sends'], week['sends'])}"
    lines = [volume]
    if day["sends_estimated"]:
        lines.append("No Send events reach the bot: sends are estimated as deliveries + bounces.")
    for key, label in RATES:
        figure = fmt_pct(day[key]) if day[key] is not None else "no sends"
        lines.append(
            f"{upper_first(label)} {figure}; the day before {_rate_change(day[key], previous[key])}; "
            f"a week before {_rate_change(day[key], week[key])}"
        )
    top = history.top_bounces(deps.store, end - DAY, end, limit=TOP)
    cloudwatch, cloudwatch_rows = _cloudwatch_lines(deps)
    incidents = open_incidents(deps.store)
    sections = [
        ("Sending (the bot's history)", lines),
        ("Top bounce domains", [f"{name}: {n}" for name, n in top["domains"]] or ["no bounces"]),
        ("Bounce categories", [f"{name}: {n}" for name, n in top["categories"]] or ["no bounces"]),
        ("Account-wide rates (the last sweep)", cloudwatch or ["no sweep has read them yet"]),
        ("Open incidents", [incident_line(i) for i in incidents] or ["none"]),
    ]
    severity = max((LEVEL_SEVERITY.get(i.level, Severity.WARNING) for i in incidents), default=Severity.INFO)
    return Answer(
        title=f"Daily digest: {end - DAY:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC",
        sections=sections,
        data={
            "since": iso(end - DAY),
            "until": iso(end),
            "day": day,
            "previous_day": previous,
            "week_before": week,
            "top_bounce_domains": [list(d) for d in top["domains"]],
            "top_bounce_categories": [list(c) for c in top["categories"]],
            "cloudwatch": cloudwatch_rows,
            "open_incidents": [incident_dict(i) for i in incidents],
        },
        kind="digest",
        severity=severity,
    )


def digest_slot(deps: Deps, now: datetime) -> datetime | None:
    """The latest digest time (UTC) at or before `now` when `SESBOT_DIGEST_AT` is set, else None: today's,
    or yesterday's before today's has come (a 23:00 digest is still the one owed at 01:00)."""
    at = deps.settings.digest_at
    if at is None:
        return None
    slot = now.replace(hour=at[0], minute=at[1], second=0, microsecond=0)
    return slot if slot <= now else slot - DAY


def owe_digest(deps: Deps, now: datetime | None = None) -> bool:
    """Owe the digest of the latest slot (:func:`digest_slot`) in the alert channel when it is not owed yet
    (once a day, whatever restarts or repeated runs), up to `CATCH_UP` late (a bot restarted at 10:00 still
    posts the 09:00 digest, one back at 01:30 the 23:00 one; one started in the evening waits for tomorrow's);
    True when it was owed now."""
    now = now or deps.now()
    slot = digest_slot(deps, now)
    channel = deps.settings.alert_channel
    if slot is None or not channel or not slot <= now < slot + CATCH_UP:
        return False
    answer = digest_answer(deps, now)
    message = Message(title=answer.title, severity=answer.severity, sections=answer.sections)
    with deps.store.transaction() as db:
        owed = db.conn.execute(
            "SELECT 1 FROM notifications WHERE kind = 'digest' AND created_at >= ? LIMIT 1", [iso(slot)]
        ).fetchone()
        if owed:
            return False
        insert_owed(db.conn, Owed(None, "digest", "digest", "", None, None, None, channel, message), now)
    return True
