"""Reminders: an open incident nobody has acknowledged or taken (an owner, "I'll take it") for
`SESBOT_ACK_REMINDER_MINUTES` gets one reply in its thread saying so, naming `SESBOT_ONCALL` (a user or
user-group id) when it is set. Once per incident: the owed `reminder` row is the record that it was sent
(or is owed)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from bot.alerts.records import Incident, query_rows
from bot.alerts.transitions import Owed
from bot.deps import Deps
from bot.findings import Severity
from bot.notify import Message
from bot.store import iso
from bot.timefmt import parse_ts, span


def reminder_message(incident: Incident, now: datetime, oncall: str | None) -> Message:
    opened = parse_ts(incident.opened_at)
    age = span(now - opened) if opened else "a while"
    return Message(
        title=f"Nobody has acknowledged this incident for {age}",
        severity=Severity.WARNING,
        lines=[
            f"{incident.label} in {incident.where} is still open. Press Acknowledge (or mention the bot "
            "with `ack` in this thread) to say someone is on it."
        ],
        notify=oncall or "",
    )


def owed_reminders(conn: sqlite3.Connection, deps: Deps, now: datetime) -> list[Owed]:
    """One reminder for each open, not snoozed incident older than the setting that nobody has acknowledged
    or taken (an owner counts as someone on it) and that has had none."""
    minutes = deps.settings.ack_reminder_minutes
    if not minutes:
        return []
    rows = query_rows(
        conn,
        "SELECT * FROM incidents i WHERE status = 'open' AND acked_at IS NULL AND coalesce(owner, '') = '' "
        "AND opened_at <= ? "
        "AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.incident_id = i.id AND n.kind = 'reminder') "
        "ORDER BY id",
        [iso(now - timedelta(minutes=minutes))],
    )
    out = []
    for row in rows:
        incident = Incident.from_row(row)
        if incident.snoozed(iso(now)):
            continue  # someone has answered it for now; a reminder is owed only if it is still open after
        out.append(
            Owed(
                incident_id=incident.id,
                kind="reminder",
                signal=incident.signal,
                region=incident.region,
                from_level=incident.level,
                to_level=incident.level,
                value=None,
                channel=incident.channel or deps.settings.alert_channel or "",
                message=reminder_message(incident, now, deps.settings.oncall),
            )
        )
    return out
