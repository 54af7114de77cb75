"""The sweep: read every signal once, record the transitions and the messages they owe, deliver them.

1. **Read** each region's AWS-backed signals (`signals.read_all`; network, outside any transaction), and
   the dedicated IPs of the regions whose new blocklist bounces need them (`transitions.read_dedicated_ips`).
2. **Apply**, in one SQLite transaction: the new blocklist bounces are read, each reading is compared
   with its stored level (`transitions.apply_reading`), the blocklist watermark moves past those bounces
   only when their readings were applied (`signals.mark_blocklist_read`), and the messages the transitions
   owe are inserted, with a parent edit for each incident whose snooze has ended
   (`transitions.reowe_ended_snoozes`) and a reminder for each incident nobody acknowledged in time
   (`reminders`).
3. **Deliver** what is owed (`outbox.deliver`), through the `Poster` handed in, then the charts owed
   (`outbox.deliver_charts`: drawn and uploaded into the incident threads, never before their parent).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.alerts.levels import SIGNALS
from bot.alerts.outbox import PostedItem, deliver, deliver_charts, owed_count
from bot.alerts.records import query_rows
from bot.alerts.reminders import owed_reminders
from bot.alerts.signals import blocklist_readings, mark_blocklist_read, read_all
from bot.alerts.transitions import Signal, apply_reading, insert_owed, read_dedicated_ips, reowe_ended_snoozes
from bot.deps import Deps
from bot.notify import Poster


@dataclass
class SweepResult:
    """What one sweep read (every signal), posted, and still owes."""

    signals: list[Signal] = field(default_factory=list)
    posted: list[PostedItem] = field(default_factory=list)
    pending: int = 0  # notifications still owed after this sweep (failed or waiting)
    charts: list[PostedItem] = field(default_factory=list)  # charts uploaded into incident threads

    def as_dict(self) -> dict[str, Any]:
        return {
            "signals": [s.as_dict() for s in self.signals],
            "posted": [p.as_dict() for p in self.posted],
            "charts": [c.as_dict() for c in self.charts],
        }


def sweep(deps: Deps, poster: Poster | None, *, deliver_owed: bool = True) -> SweepResult:
    """Read every signal once, record the transitions and the messages they owe, deliver what is owed.

    With `poster=None` the levels are recorded but nothing is owed (no alert channel configured). With
    `deliver_owed=False` the messages are owed but left in the outbox (`pending` counts them), for the bot
    that shares the database to post: a terminal sweep beside a Slack bot claims none of its messages.
    """
    now = deps.now()
    readings = read_all(deps, now)
    dedicated = read_dedicated_ips(deps, now) if poster is not None else {}
    result = SweepResult()
    with deps.store.transaction() as db:
        conn = db.conn
        readings += blocklist_readings(conn, deps.settings, now)
        readings.sort(key=lambda r: (r.account, r.region, SIGNALS.index(r.signal), r.scope))
        for r in readings:
            signal, owed = apply_reading(conn, deps, r, now, notify=poster is not None, dedicated=dedicated)
            result.signals.append(signal)
            for o in owed:
                insert_owed(conn, o, now)
        # A blocklist reading skipped (one newer than this sweep's start was stored meanwhile: another sweep
        # overlapping this one) leaves its bounces past the watermark for the next sweep to read.
        if all(s.applied for s in result.signals if s.signal == "blocklist"):
            mark_blocklist_read(conn, now)
        if poster is not None:
            reowe_ended_snoozes(conn, now)  # a parent still saying "Snoozed until" after the snooze
            for o in owed_reminders(conn, deps, now):
                insert_owed(conn, o, now)
        # Signals that could not be read this sweep keep their level; say so rather than leave them out.
        read = {(r.account, r.signal, r.region, r.scope) for r in readings}
        regions = set(deps.settings.regions)
        accounts = {view.account_name or "" for view in deps.accounts()}
        for row in query_rows(conn, "SELECT * FROM alert_state ORDER BY account, region, signal, scope"):
            key = (row["account"], row["signal"], row["region"], row["scope"])
            watched = row["region"] in regions and row["account"] in accounts and row["signal"] in SIGNALS
            if key not in read and watched:
                result.signals.append(
                    Signal(*key[1:], row["value"], bool(row["estimate"]), row["level"], row["level"], row["account"])
                )
        result.signals.sort(key=lambda s: (s.account, s.region, SIGNALS.index(s.signal), s.scope))
    if poster is not None and not deliver_owed:
        result.pending = owed_count(deps.store)
    elif poster is not None:
        result.posted, result.pending = deliver(deps, poster, now)
        result.charts = deliver_charts(deps, poster, now)
    return result
