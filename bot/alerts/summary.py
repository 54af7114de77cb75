"""Summary: an incident's timeline and its summary for a post-incident review, on a connection.

`summary` in an incident thread, `incident N` (`--json`, `--markdown`) and the reply every resolution posts
(automatic or by hand) all read it here, so they say the same thing. Reads rows on the caller's connection
(inside the sweep's transaction when a resolution owes it); no I/O besides that, no chat SDK.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.alerts.levels import LEVEL_LABELS, LEVEL_SEVERITY
from bot.alerts.messages import fmt_value
from bot.alerts.records import Incident, query_rows, worst_value
from bot.findings import Severity
from bot.notify import Message
from bot.timefmt import duration, parse_ts


def when(text: str | None) -> str:
    """'2026-12-03T09:44:51.000Z' -> '2026-12-03 09:44 UTC'."""
    return (text or "")[:16].replace("T", " ") + " UTC" if text else "?"


def timeline(conn: sqlite3.Connection, incident: Incident) -> list[dict[str, Any]]:
    """What happened, oldest first: the opening, each change, reminders, notes, owner changes, snoozes, each
    person's acknowledgement, the resolution."""
    rows = query_rows(
        conn,
        "SELECT created_at, kind, from_level, to_level, value, sent_at, last_error, attempts "
        "FROM notifications WHERE incident_id = ? AND kind NOT IN ('parent_update', 'summary', 'chart', 'reply') "
        "ORDER BY id",
        [incident.id],
    )
    events = [{**r, "at": r["created_at"]} for r in rows]
    for n in query_rows(
        conn, "SELECT at, kind, user_id, text FROM incident_log WHERE incident_id = ? ORDER BY id", [incident.id]
    ):
        events.append({"at": n["at"], "kind": n["kind"], "user_id": n["user_id"], "text": n["text"]})
    return sorted(events, key=lambda e: e["at"])


# What each kind of timeline entry says; {by} is who did it, {text} what they wrote or chose.
PEOPLE_LINES = {
    "ack": "acknowledged by {by}",
    "note": "note by {by}: {text}",
    "owner": "owner {text} (set by {by})",
    "snooze": "snoozed until {until} by {by}",
    "unsnooze": "unsnoozed by {by}",
    "muted": "now {text}",
    "resolved_by_hand": "resolved by hand by {by}: {text}",
}
ALERT_LINES = {
    "open": "opened: {to}{value}",
    "resolve": "resolved{value}",
    "notice": "account change",
    "reminder": "reminder: nobody had acknowledged it",
    "same": "more of the same{value}",
    "change": "now {to}{value}",
}


def timeline_line(incident: Incident, e: dict[str, Any], *, delivering: bool = False) -> str:
    at = when(e["at"])
    kind = e["kind"]
    by = e.get("user_id") or "someone"
    if kind == "snooze" and not e.get("text"):
        kind = "unsnooze"
    if kind in PEOPLE_LINES:
        return f"{at}: " + PEOPLE_LINES[kind].format(by=by, text=e.get("text") or "", until=when(e.get("text")))
    value = fmt_value(incident.signal, e.get("value"))
    to = LEVEL_LABELS.get(e.get("to_level") or "", e.get("to_level") or "")
    if kind not in ALERT_LINES:
        kind = "same" if e.get("from_level") == e.get("to_level") else "change"
    text = ALERT_LINES[kind].format(to=to, value=f" at {value}" if value else "")
    if not e.get("sent_at") and not (delivering and not e.get("last_error")):
        text += f" (not posted yet: {e.get('last_error') or 'waiting'})"
    return f"{at}: {text}"


@dataclass
class Summary:
    """An incident for a post-incident review: what `summary`, `incident N` and a resolution show."""

    title: str
    lines: list[str]
    timeline: list[str]
    data: dict[str, Any]
    severity: Severity
    people: list[str] = field(default_factory=list)  # the user ids on the timeline (Slack shows them as people)

    @property
    def sections(self) -> list[tuple[str, list[str]]]:
        return [("Summary", self.lines), ("Timeline", self.timeline)]

    def message(self) -> Message:
        """The summary as a thread reply (a resolution posts it)."""
        return Message(title=self.title, severity=self.severity, sections=self.sections, people=self.people)

    def markdown(self) -> str:
        """The summary as Markdown, for a post-incident review document."""
        out = [f"# {self.title}", ""]
        out += [f"- {line}" for line in self.lines]
        out += ["", "## Timeline", ""]
        out += [f"- {line}" for line in self.timeline]
        return "\n".join(out) + "\n"


def summarize(conn: sqlite3.Connection, incident: Incident, now: datetime, *, delivering: bool = False) -> Summary:
    """How long it lasted, the worst level and figure, who was on it, how it ended, the whole timeline.
    `delivering`: the summary is itself owed behind the messages not posted yet, which are posted before it
    (so they are not said to be waiting)."""
    opened = parse_ts(incident.opened_at)
    ended = parse_ts(incident.resolved_at) if incident.resolved_at else now
    lasted = duration(ended - opened) if opened and ended else "unknown"
    worst = worst_value(conn, incident.id)
    level = LEVEL_LABELS.get(incident.level, incident.level)
    worst_text = f"{level} ({fmt_value(incident.signal, worst)})" if worst is not None else level
    status = f"resolved {when(incident.resolved_at)}" if incident.resolved_at else "still open"
    if incident.resolved_by:
        status += f" by hand by {incident.resolved_by}"
    events = timeline(conn, incident)
    lines = [
        f"Opened {when(incident.opened_at)}, {status}: {lasted}",
        f"Worst level: {worst_text}",
        f"Owner: {incident.owner or 'nobody'}; acknowledged by {incident.acked_by or 'nobody'}",
        f"{sum(1 for e in events if e['kind'] == 'note')} note(s), "
        f"{sum(1 for e in events if e['kind'] in ('update', 'open'))} level message(s)",
    ]
    if incident.reopens:
        lines.append(f"Reopens incident #{incident.reopens}, which was resolved by hand while still bad")
    return Summary(
        title=f"Incident #{incident.id} summary: {incident.label} in {incident.where}",
        lines=lines,
        timeline=[timeline_line(incident, e, delivering=delivering) for e in events],
        data={
            "incident": incident.as_dict(),
            "duration_seconds": int((ended - opened).total_seconds()) if opened and ended else None,
            "worst_level": incident.level,
            "worst_value": worst,
            "timeline": events,
        },
        severity=LEVEL_SEVERITY.get(incident.level, Severity.INFO) if not incident.resolved_at else Severity.OK,
        people=_people(incident, events),
    )


def _people(incident: Incident, events: list[dict[str, Any]]) -> list[str]:
    """The users the summary names: owner, acknowledger, who resolved it, who did each timeline entry."""
    named = [incident.owner, incident.acked_by, incident.resolved_by]
    named += [e.get("user_id") for e in events] + [e.get("text") for e in events if e["kind"] == "owner"]
    return sorted({str(who) for who in named if who})
