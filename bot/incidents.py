"""Incidents as people ask about them: `/ses status`, `/ses incidents`, and `status`/`ack` in a thread.

The alert engine (`bot.alerts`) opens, updates and resolves incidents; this module reads them back and
records acknowledgements. Every function answers with an `Answer` (sections for people, `data` for
`--json`), so Slack and the terminal render the same thing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot import alerts
from bot.alerts import (
    LEVEL_LABELS,
    LEVEL_SEVERITY,
    RATE_METRICS,
    Incident,
    fmt_pct,
    fmt_value,
    signal_label,
    upper_first,
)
from bot.alerts.levels import BLOCKLIST_QUIET
from bot.alerts.outbox import delivery_problem, delivery_problem_text
from bot.alerts.records import query_rows
from bot.alerts.summary import summarize, timeline, timeline_line, when
from bot.alerts.transitions import Owed, insert_owed, reowe_parent, resolve_by_hand
from bot.deps import Deps
from bot.event_accounts import events_of_account
from bot.findings import Answer, Severity, where
from bot.numfmt import fmt_num
from bot.store import Store, iso, utcnow

RECENT = timedelta(days=7)  # `incidents` lists the ones resolved this recently


def get_incident(store: Store, incident_id: int) -> Incident | None:
    """The incident numbered `incident_id`, or None (also for a number past SQLite's integers, 2**63 - 1)."""
    if not -(2**63) <= int(incident_id) < 2**63:
        return None
    rows = store.query("SELECT * FROM incidents WHERE id = ?", [int(incident_id)])
    return Incident.from_row(rows[0]) if rows else None


def incident_for_thread(store: Store, channel: str, thread_ts: str) -> Incident | None:
    """The incident whose parent message is `thread_ts` in `channel`, if that thread is one."""
    rows = store.query(
        "SELECT * FROM incidents WHERE ts = ? AND channel = ? ORDER BY id DESC LIMIT 1", [thread_ts, channel]
    )
    return Incident.from_row(rows[0]) if rows else None


def acknowledge(store: Store, incident_id: int, user_id: str, now: datetime | None = None) -> Incident | None:
    """Record who is on the incident: each person's first acknowledgement goes on its timeline, and the first
    of all stays the incident's `acked_by`/`acked_at` (the time to acknowledge). None when there is no such
    open incident."""
    at = iso(now or utcnow())
    with store.transaction() as db:
        cur = db.conn.execute(
            "UPDATE incidents SET acked_by = coalesce(acked_by, ?), acked_at = coalesce(acked_at, ?) "
            "WHERE id = ? AND status = 'open'",
            [user_id, at, int(incident_id)],
        )
        if not cur.rowcount:
            return None
        db.conn.execute(
            "INSERT INTO incident_log (incident_id, at, kind, user_id, text) SELECT ?, ?, 'ack', ?, '' "
            "WHERE NOT EXISTS (SELECT 1 FROM incident_log WHERE incident_id = ? AND kind = 'ack' AND user_id = ?)",
            [int(incident_id), at, user_id, int(incident_id), user_id],
        )
    return get_incident(store, incident_id)


MAX_NOTE = 2000  # characters of a note kept


def add_note(store: Store, incident_id: int, user_id: str | None, text: str, now: datetime | None = None) -> int:
    """Add a person's note to the incident's timeline; returns how many notes it has now. A resolved incident
    takes notes too (for its review): they go on the timeline only, the parent message is not edited."""
    with store.transaction() as db:
        db.conn.execute(
            "INSERT INTO incident_log (incident_id, at, kind, user_id, text) VALUES (?, ?, 'note', ?, ?)",
            [int(incident_id), iso(now or utcnow()), user_id, text.strip()[:MAX_NOTE]],
        )
        return int(
            db.conn.execute(
                "SELECT count(*) FROM incident_log WHERE incident_id = ? AND kind = 'note'", [incident_id]
            ).fetchone()[0]
        )


def assign(store: Store, incident_id: int, owner: str, by: str | None, now: datetime | None = None) -> Incident | None:
    """Make `owner` the open incident's owner (on its timeline, with who did it); None when there is no such
    open incident."""
    now = now or utcnow()
    with store.transaction() as db:
        cur = db.conn.execute(
            "UPDATE incidents SET owner = ? WHERE id = ? AND status = 'open'", [owner, int(incident_id)]
        )
        if not cur.rowcount:
            return None
        db.conn.execute(
            "INSERT INTO incident_log (incident_id, at, kind, user_id, text) VALUES (?, ?, 'owner', ?, ?)",
            [int(incident_id), iso(now), by, owner],
        )
        incident = Incident.from_row(query_rows(db.conn, "SELECT * FROM incidents WHERE id = ?", [incident_id])[0])
        reowe_parent(db.conn, incident, now)  # the parent message shows the owner
    return get_incident(store, incident_id)


MAX_SNOOZE = timedelta(days=7)


def snooze(
    store: Store, incident_id: int, until: datetime | None, by: str | None, now: datetime | None = None
) -> Incident | None:
    """Snooze the incident until `until` (None: unsnooze): no thread updates at the same or a better level
    before then. On its timeline; the parent message shows the expiry. None when there is no such open incident
    (a resolved one is not snoozed: its parent says it is resolved)."""
    now = now or utcnow()
    with store.transaction() as db:
        value = iso(until) if until else None
        sql = "UPDATE incidents SET snoozed_until = ? WHERE id = ? AND status = 'open'"
        if not db.conn.execute(sql, [value, int(incident_id)]).rowcount:
            return None
        db.conn.execute(
            "INSERT INTO incident_log (incident_id, at, kind, user_id, text) VALUES (?, ?, 'snooze', ?, ?)",
            [int(incident_id), iso(now), by, value or ""],
        )
        incident = Incident.from_row(query_rows(db.conn, "SELECT * FROM incidents WHERE id = ?", [incident_id])[0])
        reowe_parent(db.conn, incident, now)
    return incident


def resolve(
    deps: Deps, incident_id: int, by: str, reason: str, now: datetime | None = None, *, first: Owed | None = None
) -> Incident | None:
    """Close an open incident by hand (`resolve <reason>`), on its timeline with who and why; the parent
    says so and the summary is owed in its thread. `first`: a message owed before those (the terminal's
    reply), in the same transaction. None when there is no such open incident."""
    now = now or deps.now()
    with deps.store.transaction() as db:
        rows = query_rows(db.conn, "SELECT * FROM incidents WHERE id = ? AND status = 'open'", [int(incident_id)])
        if not rows:
            return None
        if first is not None:
            insert_owed(db.conn, first, now)
        return resolve_by_hand(db.conn, deps, Incident.from_row(rows[0]), by, reason.strip()[:MAX_NOTE], now)


def ack_answer(incident: Incident, user_id: str) -> Answer:
    """What the thread says after `ack`: who is on it. `data.user_id` lets Slack mention the person."""
    return Answer(
        title=f"Incident #{incident.id} acknowledged",
        sections=[("", [f"{user_id} is on it ({incident.label} in {incident.where})."])],
        data={"incident": incident_dict(incident), "user_id": user_id},
        kind="incident_ack",
        severity=Severity.INFO,
    )


def incident_dict(incident: Incident) -> dict[str, Any]:
    return incident.as_dict()


def incident_line(incident: Incident) -> str:
    line = f"#{incident.id} {incident.label} in {incident.where}: "
    worst = LEVEL_LABELS.get(incident.level, incident.level)
    if incident.status == "open":
        line += f"{worst}, open since {when(incident.opened_at)}"
    else:
        line += f"reached {worst}, {when(incident.opened_at)} to {when(incident.resolved_at)}"
    if incident.acked_by:
        line += f" (acknowledged by {incident.acked_by})"
    return line


def open_incidents(store: Store) -> list[Incident]:
    rows = store.query("SELECT * FROM incidents WHERE status = 'open' ORDER BY id")
    return [Incident.from_row(r) for r in rows]


RECENT_LISTED = 50  # resolved incidents listed (the newest); the count is of all of them


def recent_incidents(store: Store, since: datetime) -> tuple[list[Incident], int]:
    """The newest `RECENT_LISTED` incidents resolved since `since`, and how many were resolved in all."""
    where = "FROM incidents WHERE status <> 'open' AND resolved_at >= ?"
    rows = store.query(f"SELECT * {where} ORDER BY resolved_at DESC LIMIT {RECENT_LISTED}", [iso(since)])
    total = store.conn.execute(f"SELECT count(*) {where}", [iso(since)]).fetchone()[0]
    return [Incident.from_row(r) for r in rows], int(total)


def _state(store: Store, signal: str, region: str, scope: str = "", account: str = "") -> dict[str, Any] | None:
    """The signal's stored alert state, its `detail` read into a dict; None before its first sweep."""
    rows = store.query(
        "SELECT * FROM alert_state WHERE account = ? AND signal = ? AND region = ? AND scope = ?",
        [account, signal, region, scope],
    )
    if not rows:
        return None
    row = rows[0]
    row["detail"] = json.loads(row["detail"]) if row.get("detail") else {}
    return row


def _by_hand(detail: dict[str, Any], recovery_sweeps: int) -> str:
    """While an incident resolved by hand waits to see whether its signal stays bad (`resolve_by_hand` keeps
    the alert level at OK meanwhile): which one, and how many of the bad sweeps that reopen it were seen."""
    closed = detail.get("resolved_by_hand")
    if not closed:
        return ""
    bad = int(detail.get("bad_sweeps") or 0)
    return f"incident #{closed} resolved by hand; bad {bad} of {recovery_sweeps} sweeps before it reopens"


def _rate_line(
    settings: Any, r: alerts.Reading, alert_level: str | None, by_hand: str = ""
) -> tuple[str, dict[str, Any]]:
    label = upper_first(signal_label(r.signal, r.scope))
    if r.value is None:
        text = f"{label}: no data (no CloudWatch figure, too few events to estimate)"
        level = None
    else:
        level = r.level or "ok"
        source = "estimate from the event history" if r.estimate else "CloudWatch"
        start = alerts.thresholds(settings, r.signal).get(level)
        level_text = LEVEL_LABELS.get(level, level) + (f" (from {fmt_pct(start)})" if start is not None else "")
        text = f"{label}: {fmt_pct(r.value)} ({source}), {level_text}"
    if by_hand and level and level != alert_level:  # still bad after a resolution by hand
        text += f"; {by_hand}"
    elif alert_level and alert_level != (level or alert_level):
        text += f"; alert level still {LEVEL_LABELS.get(alert_level, alert_level)} until it stays lower"
    data = {
        "signal": r.signal,
        "scope": r.scope,
        "value": r.value,
        "estimate": r.estimate,
        "level": level,
        "alert_level": alert_level,
    }
    return text, data


def status_answer(deps: Deps, readings_of: Callable[[Deps, str], list[alerts.Reading]] | None = None) -> Answer:
    """Per region: sandbox or production, sending, enforcement, quota, rates with levels; open incidents.

    The readings are read from AWS now, unless `readings_of(account view, region)` gives them (the App Home passes
    `alerts.stored_readings`: what the last sweep read, so opening it never waits on AWS).
    """
    now = deps.now()
    sections: list[tuple[str, list[str]]] = []
    regions_data = []
    worst = Severity.OK
    read = readings_of or (lambda view, region: alerts.read_region(view, region, now))
    scopes = [(view, region) for view in deps.accounts() for region in deps.settings.regions]
    for view, region in scopes:
        readings = read(view, region)
        lines: list[str] = [] if readings else ["No sweep has read this region yet."]
        data: dict[str, Any] = {"account": view.account_name} if view.account_name else {}
        data |= {"region": region, "errors": []}
        if not readings:
            data["no_reading"] = True  # no sweep has read it yet: neither healthy nor not
        for r in readings:
            if r.signal == "aws_api" and r.detail.get("errors"):
                data["errors"] = list(r.detail["errors"])
                lines += [f"Could not read: {e}" for e in r.detail["errors"]]
                worst = max(worst, Severity.WARNING)
            elif r.signal == "account_status":
                d = r.detail
                data.update(
                    production_access=d.get("production_access"),
                    sending_enabled=d.get("sending_enabled"),
                    enforcement_status=d.get("enforcement_status"),
                )
                lines.append(
                    "Production access (out of the sandbox)"
                    if d.get("production_access")
                    else "Sandbox: only verified recipients, limited quota"
                )
                lines.append(f"Sending enabled: {'yes' if d.get('sending_enabled') else 'NO'}")
                lines.append(f"Enforcement status: {d.get('enforcement_status') or 'unknown'}")
                worst = max(worst, LEVEL_SEVERITY.get(r.level or "ok", Severity.OK))
            elif r.signal == "quota":
                d = r.detail
                data["quota"] = {**d, "used": r.value}
                if r.value is None:
                    lines.append("Daily quota: unlimited")
                else:
                    lines.append(
                        f"Daily quota: {fmt_num(d.get('sent_last_24h', 0))} of {fmt_num(d.get('max_24h', 0))} sent "
                        f"in the last 24 h ({fmt_pct(r.value)}); at most {fmt_num(d.get('max_rate', 0))} a second"
                    )
                    worst = max(worst, LEVEL_SEVERITY.get(r.level or "ok", Severity.OK))
            elif r.signal in RATE_METRICS:
                state = _state(deps.store, r.signal, region, r.scope, r.account)
                by_hand = _by_hand(state["detail"] if state else {}, deps.settings.recovery_sweeps)
                text, rate = _rate_line(deps.settings, r, state["level"] if state else None, by_hand)
                lines.append(text)
                data.setdefault("rates", []).append(rate)
                worst = max(worst, LEVEL_SEVERITY.get(rate["level"] or "ok", Severity.OK))
        sections.append((where(view.account_name, region), lines))
        regions_data.append(data)
    incidents = open_incidents(deps.store)
    sections.append(("Open incidents", [incident_line(i) for i in incidents] or ["none"]))
    problem = delivery_problem(deps.store)
    if problem:
        sections.append(("Alert delivery", [delivery_problem_text(problem)]))
        worst = max(worst, Severity.WARNING)
    for i in incidents:
        worst = max(worst, LEVEL_SEVERITY.get(i.level, Severity.WARNING))
    return Answer(
        title="SES status",
        sections=sections,
        data={
            "regions": regions_data,
            "open_incidents": [incident_dict(i) for i in incidents],
            "alert_delivery": problem,
        },
        kind="status",
        severity=worst,
    )


def incidents_answer(deps: Deps) -> Answer:
    """Open incidents, then the ones resolved in the last `RECENT`."""
    now = deps.now()
    opened = open_incidents(deps.store)
    recent, resolved = recent_incidents(deps.store, now - RECENT)
    days = RECENT.days
    lines = [incident_line(i) for i in recent] or ["none"]
    if resolved > len(recent):
        lines.append(f"… and {resolved - len(recent)} older ones (`incident N` shows any of them)")
    return Answer(
        title=f"Incidents: {len(opened)} open, {resolved} resolved in the last {days} days",
        sections=[
            ("Open", [incident_line(i) for i in opened] or ["none"]),
            (f"Resolved in the last {days} days", lines),
        ],
        data={
            "open": [incident_dict(i) for i in opened],
            "recent": [incident_dict(i) for i in recent],
            "resolved": resolved,
        },
        kind="incidents",
        severity=max((LEVEL_SEVERITY.get(i.level, Severity.WARNING) for i in opened), default=Severity.OK),
    )


def incident_status_answer(deps: Deps, incident: Incident) -> Answer:
    """`status` in an incident thread: the signal as of the last sweep, and the incident's timeline."""
    state = _state(deps.store, incident.signal, incident.region, incident.scope, incident.account)
    now_lines = []
    if state:
        detail = state["detail"]
        calm, needed = int(state.get("calm_sweeps") or 0), deps.settings.recovery_sweeps
        by_hand = _by_hand(detail, needed)
        level = LEVEL_LABELS.get(state["level"], state["level"])
        figure = fmt_value(incident.signal, state["value"])
        if incident.signal in RATE_METRICS and state["value"] is not None:
            figure += " (estimate)" if state["estimate"] else " (CloudWatch)"
        if by_hand:  # the alert level is held at OK: the figure's own level (a rate's, the quota's), or none
            level = ""
            if alerts.thresholds(deps.settings, incident.signal) and state["value"] is not None:
                own = alerts.level_for_value(deps.settings, incident.signal, state["value"])
                level = LEVEL_LABELS.get(own, own)
        now_lines.append(f"{upper_first(signal_label(incident.signal, incident.scope))}: {figure} {level}".strip())
        if by_hand:
            now_lines.append(upper_first(by_hand))
        elif 0 < calm < needed:
            now_lines.append(f"Lower for {calm} of the {needed} sweeps a recovery needs")
        elif calm:
            # Enough calm sweeps, and still open: a blocklist incident also waits for a quiet hour.
            line = f"Lower for {calm} sweeps (a recovery needs {needed})"
            if incident.signal == "blocklist":
                minutes = int(BLOCKLIST_QUIET.total_seconds() // 60)
                line += f", and {minutes} minutes without a new blocklist bounce"
                if detail.get("last_bad_at"):
                    line += f" (the last one was seen {when(detail['last_bad_at'])})"
            now_lines.append(line)
        for e in detail.get("errors") or []:
            now_lines.append(str(e))
        now_lines.append(f"As of the last sweep, {when(state['updated_at'])}")
    else:
        now_lines.append("No sweep has read this signal yet.")
    events = timeline(deps.store.conn, incident)
    status = "open" if incident.status == "open" else f"resolved {when(incident.resolved_at)}"
    return Answer(
        title=f"Incident #{incident.id}: {incident.label} in {incident.where} ({status})",
        sections=[("Now", now_lines), ("Timeline", [timeline_line(incident, e) for e in events])],
        data={
            "incident": incident_dict(incident),
            "state": {k: state[k] for k in ("level", "value", "estimate", "calm_sweeps", "updated_at")}
            if state
            else None,
            "timeline": events,
        },
        kind="incident_status",
        severity=LEVEL_SEVERITY.get(state["level"] if state else incident.level, Severity.INFO),
    )


def incident_bounces_answer(deps: Deps, incident: Incident, limit: int = 20) -> Answer:
    """The "Show bounces" button: the recent events behind the incident, newest first."""
    since = min(
        datetime.fromisoformat(incident.opened_at.replace("Z", "+00:00")) - alerts.BEHIND_WINDOW,
        deps.now() - alerts.BEHIND_WINDOW,
    )
    where = ["timestamp >= ?", "(region = ? OR region IS NULL)"]
    params: list[Any] = [iso(since), incident.region]
    if incident.signal == "complaint_rate":
        where.append("type = 'Complaint'")
    elif incident.signal == "blocklist":
        where.append("category IN ('ip_blocklist', 'domain_blocklist')")
    else:
        where.append("type = 'Bounce'")
    if incident.scope:
        where.append("config_set = ?")
        params.append(incident.scope)
    clause, values = events_of_account(deps.settings, incident.account)
    where.append(clause)
    params += values
    rows = deps.store.query(
        f"SELECT * FROM events WHERE {' AND '.join(where)} ORDER BY timestamp DESC LIMIT ?",
        [*params, int(limit)],
    )
    lines = []
    for e in rows:
        kind = e.get("category") or e.get("bounce_subtype") or e.get("complaint_type") or e["type"]
        text = f"{when(e['timestamp'])} {e.get('recipient') or '?'}: {kind}"
        if e.get("diagnostic"):
            text += f" — {str(e['diagnostic'])[:200]}"
        lines.append(text)
    return Answer(
        title=f"Recent events behind incident #{incident.id} ({incident.label} in {incident.where})",
        sections=[("Newest first", lines or ["none received by the bot"])],
        data={"incident": incident_dict(incident), "events": rows},
        kind="incident_bounces",
    )


def incident_summary_answer(deps: Deps, incident: Incident, *, markdown: bool = False) -> Answer:
    """The incident for a post-incident review: how long it lasted, the worst level and figure, who was on
    it, and the whole timeline (`summary` in its thread, `incident N` in the terminal); with `markdown`, the
    terminal prints it as a Markdown document (`incident N --markdown`)."""
    summary = summarize(deps.store.conn, incident, deps.now())
    return Answer(
        title=summary.title,
        sections=summary.sections,
        data=summary.data,
        kind="incident_summary",
        severity=summary.severity,
        text=summary.markdown() if markdown else "",
        people=summary.people,
    )
