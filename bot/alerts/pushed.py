"""Pushed, not polled: SES's status and Advisor events, as EventBridge puts them on the bot's queue, turned
into incidents and messages in the receive that brought them (the sweep still polls, as the fallback).

* **Sending Status Disabled / Enabled** (`detail-type`): the event says the account's sending status changed in
  its `region`. The account-status signal of that region is read again at once (`GetAccount`, the sweep's own
  reading, `signals.account_readings`) and applied exactly as a sweep applies it (`transitions.apply_reading`),
  so the incident it opens, updates or resolves is the one the sweep would: the next sweep sees the same level
  and opens nothing twice. When `GetAccount` cannot be read, the event's own word stands in: Disabled is
  "sending paused", Enabled is sending enabled again, with the rest of the account's stored status. Then only
  the region's newest event (by its `time`: a standard queue keeps no order) counts, applied as of that time,
  so an event older than the stored reading changes nothing (`apply_reading`'s own rule).
* **Advisor Recommendation Status Open / Resolved**: one notice in the alert channel (not an incident: a VDM
  Advisor recommendation is advice about an identity, not an outage), with the recommendation's type,
  resource, impact and description as SES sent them; each event once (its EventBridge id), however often SQS
  delivers it.

What is owed is written in one transaction with the level it follows from (`record_pushed`), then delivered
through the `Poster` the front end handed the consumer (the outbox: claimed, posted with its mark, marked
sent). The consumer records before it deletes the batch from the queue and delivers after: a crash in between
brings the events back, and applying them again changes nothing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.alerts.outbox import PostedItem, deliver
from bot.alerts.signals import Reading, account_readings
from bot.alerts.transitions import Owed, Signal, apply_reading, insert_owed
from bot.aws import describe_error
from bot.deps import Deps
from bot.events import PushedEvent
from bot.findings import Severity
from bot.notify import Message, Poster
from bot.store import first_time_in

log = logging.getLogger(__name__)

STATUS_TYPES = {"Sending Status Disabled": False, "Sending Status Enabled": True}  # -> sending enabled
ADVISOR_TYPES = {"Advisor Recommendation Status Open": "opened", "Advisor Recommendation Status Resolved": "resolved"}


@dataclass
class PushedResult:
    """What the pushed events of one receive did: the signals they moved, the messages then delivered."""

    signals: list[Signal] = field(default_factory=list)
    notices: int = 0
    owes: int = 0  # messages written to the outbox
    posted: list[PostedItem] = field(default_factory=list)
    ignored: int = 0  # events for a region the bot does not watch, or already handled


def _stored_account(deps: Deps, region: str) -> dict[str, Any]:
    rows = deps.store.query(
        "SELECT detail FROM alert_state WHERE account = ? AND signal = 'account_status' AND region = ? AND scope = ''",
        [deps.account_name or "", region],
    )
    return json.loads(rows[0]["detail"]) if rows and rows[0].get("detail") else {}


def status_reading(deps: Deps, event: PushedEvent, now: datetime) -> tuple[Reading, datetime]:
    """The account-status reading of the event's region and when it was true: SES's answer `now`, else what the
    event says, as of the event's `time` (never after `now`)."""
    try:
        account = deps.aws.get("sesv2", event.region).get_account()
    except Exception as exc:  # the event is news enough on its own: say it, and use it
        log.warning(
            "GetAccount failed in %s after SES pushed %r: %s; the event's word is used",
            event.region,
            event.detail_type,
            describe_error(exc),
        )
        stored = _stored_account(deps, event.region)
        account = {
            "SendingEnabled": STATUS_TYPES[event.detail_type],
            "EnforcementStatus": stored.get("enforcement_status"),
            "ProductionAccessEnabled": stored.get("production_access"),
        }
        now = min(_at(event.time, now), now)
    reading = account_readings(event.region, account)[0]
    reading.account = deps.account_name or ""
    return reading, now


def advisor_message(event: PushedEvent) -> Message:
    """The notice for one Advisor event; every value is SES's, shown as data."""
    d = event.detail
    verb = ADVISOR_TYPES[event.detail_type]

    def value(*names: str) -> str:
        return next((str(d[n]) for n in names if isinstance(d.get(n), str | int | float) and str(d[n])), "")

    kind = value("type", "Type", "recommendationType")
    resource = value("resourceArn", "ResourceArn", "resource")
    impact = value("impact", "Impact")
    title = f"SES's Advisor {verb} a recommendation" + (f": {kind}" if kind else "") + f" in {event.region}"
    fields = [(label, v) for label, v in (("Resource", resource), ("Impact", impact)) if v]
    description = value("description", "Description")
    lines = [description] if description else []
    lines.append(
        "Run `why` on a recipient of this identity, or `aws sesv2 list-recommendations --region "
        f"{event.region}`, for every open recommendation."
        if verb == "opened"
        else "SES no longer recommends this change."
    )
    severity = Severity.WARNING if verb == "opened" and impact.upper() == "HIGH" else Severity.INFO
    return Message(title=title, severity=severity, fields=fields, lines=lines, footer=f"Pushed by SES at {event.time}")


def record_pushed(deps: Deps, events: list[PushedEvent], *, notify: bool) -> PushedResult:
    """Turn one receive's pushed events into level changes and, with `notify` (there is a channel to post
    to), the messages they owe, in one transaction; `owes` says how many. Delivering them is `deliver`'s job."""
    result = PushedResult()
    now = deps.now()
    regions = set(deps.settings.regions)
    watched = [e for e in events if e.region in regions]
    result.ignored = len(events) - len(watched)
    # A standard queue keeps no order: each region's newest event by its time is the one that counts.
    newest: dict[str, PushedEvent] = {}
    for e in watched:
        if e.detail_type in STATUS_TYPES and (e.region not in newest or e.time >= newest[e.region].time):
            newest[e.region] = e
    readings = {region: status_reading(deps, e, now) for region, e in newest.items()}
    channel = deps.settings.alert_channel or ""
    with deps.store.transaction() as db:
        conn = db.conn
        for _, (reading, at) in sorted(readings.items()):
            # An event's word is applied as of its time: one older than the stored reading changes nothing.
            signal, owed = apply_reading(conn, deps, reading, at, notify=notify)
            result.signals.append(signal)
            for o in owed:
                insert_owed(conn, o, now)
            result.owes += len(owed)
        for e in watched:
            if e.detail_type not in ADVISOR_TYPES:
                continue
            if not notify or not first_time_in(conn, f"eventbridge:{e.id}", _at(e.time, now)):
                result.ignored += 1
                continue
            notice = Owed(None, "notice", "advisor", e.region, None, None, None, channel, advisor_message(e))
            insert_owed(conn, notice, now)
            result.notices += 1
            result.owes += 1
    for s in result.signals:
        if s.previous_level != s.level:
            log.info(
                "SES pushed a sending-status change in %s: account status %s -> %s", s.region, s.previous_level, s.level
            )
    return result


def apply_pushed(deps: Deps, events: list[PushedEvent], poster: Poster | None) -> PushedResult:
    """`record_pushed`, then deliver what it owes through `poster` (none: levels only, nothing owed)."""
    result = record_pushed(deps, events, notify=poster is not None)
    if poster is not None and result.owes:
        result.posted, _ = deliver(deps, poster)
    return result


def _at(text: str, default: datetime) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return default


__all__ = ["PushedResult", "advisor_message", "apply_pushed", "record_pushed", "status_reading"]
