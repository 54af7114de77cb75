"""Transitions: compare a reading with its stored level; each change is an incident step and owed messages.

Healthchecks-style: `alert_state` holds each signal's current level; `apply_reading` moves it one sweep
(`next_level`), and a change of level is a transition (healthchecks' Flip). A transition opens, updates
or resolves the signal's incident and returns the messages it owes, which `insert_owed` writes to
`notifications` in the same transaction: a crash keeps both or neither. Delivery is the outbox's job.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot import history
from bot.alerts.forecast import FORECAST_HOURS, Forecast, forecast
from bot.alerts.levels import LEVEL_LABELS, RATE_METRICS, ladder, next_level, thresholds
from bot.alerts.messages import (
    Facts,
    change_message,
    chart_message,
    new_listing_message,
    notice_message,
    open_message,
    parent_message,
    resolve_message,
)
from bot.alerts.records import Incident, query_rows, worst_value
from bot.alerts.signals import Reading, behind, blocklist_readings, history_is_the_accounts, merge_blocklist_groups
from bot.alerts.summary import summarize, when
from bot.aws import describe_error
from bot.checks.blocklist import dedicated_ips
from bot.deps import Deps
from bot.notify import Message
from bot.store import iso

log = logging.getLogger(__name__)


@dataclass
class Signal:
    """One signal's outcome of a sweep (what `--json` prints)."""

    signal: str
    region: str
    scope: str
    value: float | None
    estimate: bool
    level: str
    previous_level: str | None
    account: str = ""
    applied: bool = True  # False: the reading left the stored state as it was (no figure, or an older one)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"account": self.account} if self.account else {}
        return out | {
            "signal": self.signal,
            "region": self.region,
            "scope": self.scope,
            "value": self.value,
            "estimate": self.estimate,
            "level": self.level,
            "previous_level": self.previous_level,
        }


@dataclass
class Owed:
    """One message a transition owes: a row of `notifications` to be."""

    incident_id: int | None
    kind: str
    signal: str
    region: str
    from_level: str | None
    to_level: str | None
    value: float | None
    channel: str
    message: Message


def _open_incident(conn: sqlite3.Connection, r: Reading) -> Incident | None:
    rows = query_rows(
        conn,
        "SELECT * FROM incidents WHERE status = 'open' AND account = ? AND signal = ? AND region = ? AND scope = ? "
        "ORDER BY id DESC LIMIT 1",
        [r.account, r.signal, r.region, r.scope],
    )
    return Incident.from_row(rows[0]) if rows else None


def _account_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    out = []
    if before.get("production_access") is not None and before.get("production_access") != after.get(
        "production_access"
    ):
        out.append(
            "Production access granted: the account left the sandbox."
            if after.get("production_access")
            else "Production access lost: the account is in the sandbox (verified recipients only)."
        )
    if before.get("enforcement_status") and before.get("enforcement_status") != after.get("enforcement_status"):
        out.append(
            f"Enforcement status changed from {before['enforcement_status']} to {after.get('enforcement_status')}."
        )
    if before.get("sending_enabled") is not None and before.get("sending_enabled") != after.get("sending_enabled"):
        out.append("Sending enabled again." if after.get("sending_enabled") else "Sending disabled.")
    return out


def apply_reading(
    conn: sqlite3.Connection,
    deps: Deps,
    r: Reading,
    now: datetime,
    notify: bool,
    dedicated: DedicatedIps | None = None,
) -> tuple[Signal, list[Owed]]:
    """Move the signal's stored level one sweep; with `notify`, the transition's incident steps and messages.

    `dedicated`: the dedicated IPs `read_dedicated_ips` read before the transaction, for a blocklist reading."""
    settings = deps.settings
    levels = ladder(settings, r.signal)
    rows = query_rows(
        conn,
        "SELECT * FROM alert_state WHERE account = ? AND signal = ? AND region = ? AND scope = ?",
        [r.account, r.signal, r.region, r.scope],
    )
    state = rows[0] if rows else None
    previous = state["level"] if state else None
    detail_before = json.loads(state["detail"]) if state and state.get("detail") else {}
    current = previous or "ok"
    # No figure this sweep, or one read before the stored one was written (SES pushed a status change while the
    # sweep was reading AWS, and `now` is when the sweep began): keep everything as it was. A stored time
    # more than a sweep interval ahead of `now` is no newer reading but a wall clock that stepped back (a VM
    # resumed, an NTP correction): this reading is applied, or none would be until the clock caught up.
    if r.level is None or (state is not None and _newer(str(state["updated_at"]), now, settings.sweep_minutes)):
        value = state["value"] if state else None
        estimate = bool(state["estimate"]) if state else False
        return Signal(r.signal, r.region, r.scope, value, estimate, current, previous, r.account, applied=False), []

    last_bad = detail_before.get("last_bad_at")
    if r.level != "ok" and levels.index(r.level) >= (levels.index(current) if current in levels else 0):
        last_bad = iso(now)  # a sweep at (or above) the current level: the quiet time starts again
    quiet_enough = r.quiet <= timedelta(0) or not last_bad or last_bad <= iso(now - r.quiet)
    new, calm, calm_max = next_level(
        levels,
        current,
        r.level,
        calm=int(state["calm_sweeps"]) if state else 0,
        calm_max=detail_before.get("calm_max"),
        recovery_sweeps=settings.recovery_sweeps,
        hysteresis=r.hysteresis,
        quiet_enough=quiet_enough,
    )
    detail = {k: v for k, v in r.detail.items() if k != "groups"}
    detail.update({"calm_max": calm_max, "last_bad_at": last_bad})
    if r.signal == "blocklist" and new != "ok":
        # The incident's groups so far (a new one starts empty): the parent counts them all, and a (list, IP)
        # pair not among them is news for the thread.
        before = detail_before if current != "ok" else {}
        if notify:
            _mark_dedicated(r, before.get("listings") or [], dedicated or {})
        detail["listings"] = _listings(before, r)
    reopens = None
    closed = detail_before.get("resolved_by_hand")  # the incident someone closed while the signal was bad
    if closed and new != "ok":
        bad = int(detail_before.get("bad_sweeps") or 0) + 1
        if bad < settings.recovery_sweeps:  # not yet: as many bad sweeps as a recovery needs good ones
            new = current
            detail.update({"resolved_by_hand": closed, "bad_sweeps": bad})
        else:
            reopens = int(closed)
    conn.execute(
        "INSERT INTO alert_state "
        "(account, signal, region, scope, level, value, estimate, calm_sweeps, detail, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account, signal, region, scope) DO UPDATE SET "
        "level = excluded.level, value = excluded.value, estimate = excluded.estimate, "
        "calm_sweeps = excluded.calm_sweeps, detail = excluded.detail, updated_at = excluded.updated_at",
        [r.account, r.signal, r.region, r.scope, new, r.value, int(r.estimate), calm, json.dumps(detail), iso(now)],
    )
    if r.value is not None:  # the open incident's highest figure, sweep by sweep
        conn.execute(
            "UPDATE incidents SET peak = max(coalesce(peak, ?), ?) "
            "WHERE status = 'open' AND account = ? AND signal = ? AND region = ? AND scope = ?",
            [r.value, r.value, r.account, r.signal, r.region, r.scope],
        )
    signal = Signal(r.signal, r.region, r.scope, r.value, r.estimate, new, previous, r.account)
    if not notify:
        return signal, []
    return signal, _transitions(conn, deps, r, now, previous, current, new, detail_before, reopens)


def _newer(stored_at: str, now: datetime, sweep_minutes: float) -> bool:
    """Whether a stored reading was applied after `now` (a reading taken at `now` is older): later than `now`,
    and not so far ahead (more than one sweep interval) that it is the clock that went back."""
    return iso(now) < stored_at <= iso(now + timedelta(minutes=sweep_minutes))


DedicatedIps = dict[tuple[str, str], set[str] | None]  # (account, region): its dedicated IPs, None: unreadable


def _fresh_ip_groups(r: Reading, known: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The reading's IP-listing groups whose (list, IP) pair the incident has not seen (`known`: its groups);
    a group of a pair it knows gets the `dedicated` it was told."""
    seen = {(g["blocklist"], g["sending_ip"]) for g in known}
    told = {(g["blocklist"], g["sending_ip"]): g["dedicated"] for g in known if "dedicated" in g}
    fresh = []
    for g in r.detail.get("groups") or []:
        if g.get("category") != "ip_blocklist" or not _an_ip(g["sending_ip"]):
            continue  # a listed domain, or no sending IP in the bounce: nothing to tell
        pair = (g["blocklist"], g["sending_ip"])
        if pair in told:
            g["dedicated"] = told[pair]
        elif pair not in seen:
            fresh.append(g)
    return fresh


def _known_listings(conn: sqlite3.Connection, r: Reading) -> list[dict[str, Any]]:
    """The groups of the reading's open blocklist incident so far, as its stored state has them."""
    row = conn.execute(
        "SELECT level, detail FROM alert_state WHERE account = ? AND signal = ? AND region = ? AND scope = ?",
        [r.account, r.signal, r.region, r.scope],
    ).fetchone()
    if not row or row[0] == "ok" or not row[1]:
        return []
    return list(json.loads(row[1]).get("listings") or [])


def read_dedicated_ips(deps: Deps, now: datetime) -> DedicatedIps:
    """Before the sweep's transaction (a network read, never under the write lock): the dedicated IPs
    (`GetDedicatedIps`, once per account and region) of each account and region whose new blocklist bounces,
    looked at read-only past the watermark, name a (list, IP) pair its incident has not seen."""
    conn = deps.store.conn
    wanted = [r for r in blocklist_readings(conn, deps.settings, now) if _fresh_ip_groups(r, _known_listings(conn, r))]
    out: DedicatedIps = {}
    for r in wanted:
        views = deps.accounts(r.account) if r.account else [deps]
        try:
            out[(r.account, r.region)] = {ip["Ip"] for ip in dedicated_ips(views[0], r.region) if ip.get("Ip")}
        except Exception as exc:  # the alert is still owed, saying it could not tell
            log.warning("could not list the dedicated IPs in %s: %s", r.region, describe_error(exc))
            out[(r.account, r.region)] = None
    return out


def _mark_dedicated(r: Reading, known: list[dict[str, Any]], dedicated: DedicatedIps) -> None:
    """Say on each of the reading's IP-listing groups whether its sending IP is one of the account's dedicated
    IPs in the region (`dedicated`: True, False, or None when they could not be read), for the messages and
    the incident's stored groups. A (list, IP) pair the incident knows keeps what it was told; only new pairs
    take what `read_dedicated_ips` read before the transaction (None: a group it did not see, such as one
    that came in meanwhile)."""
    ips = dedicated.get((r.account, r.region))
    for g in _fresh_ip_groups(r, known):
        g["dedicated"] = None if ips is None else g["sending_ip"] in ips


def _an_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _listings(detail_before: dict[str, Any], r: Reading) -> list[dict[str, Any]]:
    """The blocklist incident's groups up to this sweep: those stored before, and this sweep's added."""
    return merge_blocklist_groups(detail_before.get("listings") or [], r.detail.get("groups") or [])


def _facts(conn: sqlite3.Connection, deps: Deps, r: Reading, now: datetime, previous: str | None, new: str) -> Facts:
    return Facts(
        signal=r.signal,
        region=r.region,
        account=r.account,
        scope=r.scope,
        level=new,
        previous_level=previous,
        value=r.value,
        estimate=r.estimate,
        levels=ladder(deps.settings, r.signal),
        thresholds=thresholds(deps.settings, r.signal),
        recovery_sweeps=deps.settings.recovery_sweeps,
        now=now,
        trend=r.trend,
        behind=behind(conn, r.signal, r.region, r.scope, now, deps.settings, r.account),
        detail=r.detail,
        forecast=rate_forecast(deps, r, now) if r.signal in RATE_METRICS else None,
    )


def rate_forecast(deps: Deps, r: Reading, now: datetime) -> Forecast:
    """When the rate reaches its next level at the trend of the last `FORECAST_HOURS` hours, given the sends in
    those hours: CloudWatch's count (`Send`) when the sweep read one for the account, else the history's (none
    with several accounts or regions: the history does not say whose)."""
    sends = r.detail.get("cloudwatch_sends")  # set on the account's unscoped rates only (signals.read_region)
    if sends is None and history_is_the_accounts(deps.settings):
        # The current hour and the 5 before, from the first one's start (history would round a later start up).
        since = (now - timedelta(hours=FORECAST_HOURS - 1)).replace(minute=0, second=0, microsecond=0)
        rows = history.hourly_series(deps.store, since, now + timedelta(minutes=1), config_set=r.scope or None)
        sends = sum(int(row["sends"]) for row in rows)
    return forecast(
        r.trend, r.value, thresholds(deps.settings, r.signal), sends, deps.settings.forecast_min_sends, FORECAST_HOURS
    )


def _transitions(
    conn: sqlite3.Connection,
    deps: Deps,
    r: Reading,
    now: datetime,
    previous: str | None,
    current: str,
    new: str,
    detail_before: dict[str, Any],
    reopens: int | None = None,
) -> list[Owed]:
    """The incident changes and messages one reading owes; `reopens`: the incident closed by hand that a new
    one (the signal still bad) links."""
    levels = ladder(deps.settings, r.signal)
    channel = deps.settings.alert_channel or ""
    owed: list[Owed] = []
    incident = _open_incident(conn, r)
    changes = _account_changes(detail_before, r.detail) if r.signal == "account_status" and previous else []

    def facts() -> Facts:
        f = _facts(conn, deps, r, now, current, new)
        f.detail = {**f.detail, "changes": changes}
        return f

    def owe(kind: str, message: Message, inc: Incident | None) -> None:
        if kind == "parent_update" and inc is not None:
            decorate_parent(message, inc, now)  # the parent keeps showing the owner and the snooze
        owed.append(Owed(inc.id if inc else None, kind, r.signal, r.region, current, new, r.value, channel, message))

    def owe_chart(inc: Incident) -> None:
        """A rate's incident gets the chart in its thread when it opens and when its level changes; the
        outbox draws and uploads it after the messages (`outbox.deliver_charts`)."""
        if deps.settings.charts and r.signal in RATE_METRICS:
            owe("chart", chart_message(_facts(conn, deps, r, now, current, new)), inc)

    if new != current:
        f = facts()
        if new != "ok" and incident is None:
            cur = conn.execute(
                "INSERT INTO incidents (account, signal, region, scope, level, status, opened_at, channel, reopens) "
                "VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?)",
                [r.account, r.signal, r.region, r.scope, new, iso(now), channel, reopens],
            )
            assert cur.lastrowid is not None  # an INSERT always sets it
            incident = Incident(
                cur.lastrowid,
                r.signal,
                r.region,
                r.scope,
                new,
                "open",
                iso(now),
                channel=channel,
                reopens=reopens,
                account=r.account,
            )
            f.incident_id, f.opened_at = incident.id, incident.opened_at
            f.reopens = _closed_by_hand(conn, reopens) if reopens else None
            owe("open", open_message(f), incident)
            owe_chart(incident)
        elif new != "ok" and incident is not None:
            f.incident_id, f.opened_at = incident.id, incident.opened_at
            worse = levels.index(new) > (levels.index(incident.level) if incident.level in levels else 0)
            if incident.snoozed(iso(now)) and not worse:
                label = LEVEL_LABELS.get(new, new)
                _log_muted(conn, incident, now, f"{label} (not posted: snoozed until {when(incident.snoozed_until)})")
                return owed
            message = change_message(f)
            if incident.snoozed(iso(now)):
                message.lines.insert(
                    0, f"Posted although the incident is snoozed until {when(incident.snoozed_until)}: worse."
                )
            owe("update", message, incident)
            if worse:
                conn.execute("UPDATE incidents SET level = ? WHERE id = ?", [new, incident.id])
                owe("parent_update", parent_message(f), incident)
            owe_chart(incident)
        elif new == "ok" and incident is not None:
            f.incident_id, f.opened_at = incident.id, incident.opened_at
            f.worst_level = incident.level
            f.worst_value = worst_value(conn, incident.id)
            conn.execute(
                "UPDATE incidents SET status = 'resolved', resolved_at = ? WHERE id = ?",
                [iso(now), incident.id],
            )
            owe("resolve", resolve_message(f), incident)
            owe("parent_update", parent_message(f, resolved=True), incident)
            owed.append(summary_owed(incident, current, channel))
        return owed

    # No level change: news worth a message all the same (not while the incident is snoozed).
    if incident is not None and incident.snoozed(iso(now)):
        return owed
    if r.signal == "blocklist" and r.level == "listed" and new == "listed" and incident is not None and previous:
        # Repeats of a known (list, IP) pair are counted on the parent (an edit); a new pair is a new listing,
        # announced in the thread, and the parent names it too.
        known = {(g["blocklist"], g["sending_ip"]) for g in detail_before.get("listings") or []}
        fresh = [g for g in r.detail.get("groups") or [] if (g["blocklist"], g["sending_ip"]) not in known]
        f = facts()
        f.incident_id, f.opened_at = incident.id, incident.opened_at
        if fresh:
            owe("update", new_listing_message(f, fresh), incident)
        listings = _listings(detail_before, r)
        f.value = float(sum(g["count"] for g in listings))
        f.detail = {**f.detail, "groups": listings, "since_open": True}
        owe("parent_update", parent_message(f), incident)
    elif changes:
        owe("update" if incident else "notice", notice_message(facts(), changes), incident)
    return owed


def summary_owed(incident: Incident, level: str, channel: str) -> Owed:
    """The summary a resolution posts in the thread. Its message is built when it is written (`insert_owed`),
    after the resolution's own messages, so its timeline ends with them."""
    return Owed(incident.id, "summary", incident.signal, incident.region, level, "ok", None, channel, Message(""))


def _closed_by_hand(conn: sqlite3.Connection, incident_id: int) -> dict[str, Any] | None:
    """Who closed the incident by hand, when and why: what the incident reopening it says."""
    row = conn.execute(
        "SELECT i.id, i.resolved_by, i.resolved_at, l.text FROM incidents i LEFT JOIN incident_log l "
        "ON l.incident_id = i.id AND l.kind = 'resolved_by_hand' WHERE i.id = ? ORDER BY l.id DESC LIMIT 1",
        [incident_id],
    ).fetchone()
    return {"id": row[0], "by": row[1], "at": row[2], "reason": row[3] or ""} if row else None


def _incident_facts(conn: sqlite3.Connection, deps: Deps, incident: Incident, now: datetime) -> Facts:
    """The facts about an incident's signal as the last sweep left it (for a message owed between sweeps)."""
    rows = query_rows(
        conn,
        "SELECT value, estimate FROM alert_state WHERE account = ? AND signal = ? AND region = ? AND scope = ?",
        [incident.account, incident.signal, incident.region, incident.scope],
    )
    state = rows[0] if rows else {"value": None, "estimate": 0}
    worst = worst_value(conn, incident.id)
    return Facts(
        signal=incident.signal,
        region=incident.region,
        account=incident.account,
        scope=incident.scope,
        level=incident.level,
        previous_level=incident.level,
        value=state["value"],
        estimate=bool(state["estimate"]),
        levels=ladder(deps.settings, incident.signal),
        thresholds=thresholds(deps.settings, incident.signal),
        recovery_sweeps=deps.settings.recovery_sweeps,
        now=now,
        incident_id=incident.id,
        opened_at=incident.opened_at,
        worst_level=incident.level,
        worst_value=worst,
    )


def resolve_by_hand(
    conn: sqlite3.Connection, deps: Deps, incident: Incident, by: str, reason: str, now: datetime
) -> Incident:
    """Close an open incident by hand (`resolve <reason>`): on its timeline with who and why; the parent
    says so and the summary is owed in its thread. The signal's level goes back to OK, marked as closed by
    hand: if it is still bad for the next `recovery_sweeps` sweeps a new incident opens and links this one."""
    conn.execute(
        "UPDATE incidents SET status = 'resolved', resolved_at = ?, resolved_by = ? WHERE id = ?",
        [iso(now), by, incident.id],
    )
    conn.execute(
        "INSERT INTO incident_log (incident_id, at, kind, user_id, text) VALUES (?, ?, 'resolved_by_hand', ?, ?)",
        [incident.id, iso(now), by, reason],
    )
    rows = query_rows(
        conn,
        "SELECT detail FROM alert_state WHERE account = ? AND signal = ? AND region = ? AND scope = ?",
        [incident.account, incident.signal, incident.region, incident.scope],
    )
    if rows:
        detail = json.loads(rows[0]["detail"]) if rows[0]["detail"] else {}
        detail.update({"resolved_by_hand": incident.id, "bad_sweeps": 0, "calm_max": None})
        conn.execute(
            "UPDATE alert_state SET level = 'ok', calm_sweeps = 0, detail = ? "
            "WHERE account = ? AND signal = ? AND region = ? AND scope = ?",
            [json.dumps(detail), incident.account, incident.signal, incident.region, incident.scope],
        )
    closed = Incident.from_row(query_rows(conn, "SELECT * FROM incidents WHERE id = ?", [incident.id])[0])
    f = _incident_facts(conn, deps, closed, now)
    f.detail = {"resolved_by_hand": _closed_by_hand(conn, incident.id)}
    channel = closed.channel or deps.settings.alert_channel or ""
    level = closed.level
    message = decorate_parent(parent_message(f, resolved=True), closed, now)
    insert_owed(
        conn, Owed(closed.id, "parent_update", closed.signal, closed.region, level, "ok", None, channel, message), now
    )
    insert_owed(conn, summary_owed(closed, level, channel), now)
    return closed


def decorate_parent(message: Message, incident: Incident, now: datetime) -> Message:
    """The incident's parent message shows who owns it and, while snoozed, until when."""
    message.owner = incident.owner or ""
    message.fields = [f for f in message.fields if f[0] != "Snoozed until"]
    if incident.snoozed(iso(now)):
        message.fields.append(("Snoozed until", when(incident.snoozed_until)))
    return message


def reowe_parent(conn: sqlite3.Connection, incident: Incident, now: datetime) -> None:
    """Owe the parent message again, as it reads now (its latest version, decorated): after an owner change
    or a snooze, from the thread, between sweeps."""
    row = conn.execute(
        "SELECT blocks, channel FROM notifications WHERE incident_id = ? AND kind IN ('open', 'parent_update') "
        "AND blocks IS NOT NULL ORDER BY id DESC LIMIT 1",
        [incident.id],
    ).fetchone()
    if not row:
        return
    message = decorate_parent(Message.from_dict(json.loads(row[0])), incident, now)
    level = incident.level
    channel = incident.channel or row[1] or ""
    owed = Owed(incident.id, "parent_update", incident.signal, incident.region, level, level, None, channel, message)
    insert_owed(conn, owed, now)


def reowe_ended_snoozes(conn: sqlite3.Connection, now: datetime) -> None:
    """Owe the parent of each incident whose snooze has ended since its parent was last written, so it no
    longer says "Snoozed until": once, as the parent then written postdates the end (the sweep's step)."""
    rows = query_rows(
        conn,
        "SELECT * FROM incidents i WHERE snoozed_until <= ? AND (status = 'open' OR resolved_at < snoozed_until) "
        "AND (SELECT max(created_at) FROM notifications n WHERE n.incident_id = i.id "
        "AND n.kind IN ('open', 'parent_update') AND n.blocks IS NOT NULL) < snoozed_until ORDER BY id",
        [iso(now)],
    )
    for row in rows:
        reowe_parent(conn, Incident.from_row(row), now)


def _log_muted(conn: sqlite3.Connection, incident: Incident, now: datetime, text: str) -> None:
    """A change a snooze kept out of the thread still goes on the incident's timeline."""
    conn.execute(
        "INSERT INTO incident_log (incident_id, at, kind, user_id, text) VALUES (?, ?, 'muted', NULL, ?)",
        [incident.id, iso(now), text],
    )


def insert_owed(conn: sqlite3.Connection, owed: Owed, now: datetime) -> None:
    """Write an owed message to `notifications` (the neutral `Message` as JSON; the poster renders it)."""
    if owed.kind == "summary" and owed.incident_id is not None:
        row = query_rows(conn, "SELECT * FROM incidents WHERE id = ?", [owed.incident_id])[0]
        owed.message = summarize(conn, Incident.from_row(row), now, delivering=True).message()
    conn.execute(
        "INSERT INTO notifications "
        "(created_at, incident_id, kind, signal, region, from_level, to_level, value, "
        "channel, text, blocks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            iso(now),
            owed.incident_id,
            owed.kind,
            owed.signal,
            owed.region,
            owed.from_level,
            owed.to_level,
            owed.value,
            owed.channel,
            owed.message.text()[:40000],
            json.dumps(owed.message.as_dict()),  # the neutral message; the poster renders it
        ],
    )
