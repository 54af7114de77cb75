"""Outbox: deliver the owed `notifications`, oldest first, through a `bot.notify.Poster`.

Each row is claimed (a committed lease, `CLAIM_LEASE`), posted, and marked sent with the ts the poster
answered. A `PostError` releases the claim and keeps the row owed for a later sweep: not before the
`retry_after` the poster reported (a rate limit: that channel is skipped for the rest of this sweep); a
transient error (the chat API is down) ends this sweep's delivery; any other error skips only that row.
A reply waits until its parent is posted. A restart therefore neither repeats (sent ones are marked) nor
loses (unsent ones are retried) one. Rows hold the neutral `Message`; which chat system carries it is the
poster's business.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.alerts.records import Incident
from bot.deps import Deps
from bot.notify import Message, Poster, PostError
from bot.store import Store, iso

log = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=10)  # a claim older than this belongs to a process that died mid-post


@dataclass
class PostedItem:
    """One message delivered by this sweep."""

    kind: str  # open, update, resolve, parent_update, notice
    channel: str
    thread_ts: str | None  # the parent's ts for replies and parent updates; None for a new message
    ts: str
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "channel": self.channel,
            "thread_ts": self.thread_ts,
            "ts": self.ts,
            "text": self.text,
        }


def _claim(store: Store, notification_id: int, now: datetime) -> bool:
    """Take the notification for this process (committed before posting), unless someone holds it."""
    with store.transaction() as db:
        cur = db.conn.execute(
            "UPDATE notifications SET claimed_at = ?, attempts = attempts + 1 "
            "WHERE id = ? AND sent_at IS NULL AND (claimed_at IS NULL OR claimed_at < ?)",
            [iso(now), notification_id, iso(now - CLAIM_LEASE)],
        )
        return cur.rowcount == 1


def _release(store: Store, notification_id: int, error: str, not_before: datetime | None) -> None:
    with store.transaction() as db:
        db.conn.execute(
            "UPDATE notifications SET claimed_at = NULL, last_error = ?, not_before = ? WHERE id = ?",
            [error[:500], iso(not_before) if not_before else None, notification_id],
        )


def _mark_sent(store: Store, row: dict[str, Any], channel: str, thread_ts: str | None, ts: str, now: datetime) -> None:
    with store.transaction() as db:
        db.conn.execute(
            "UPDATE notifications SET sent_at = ?, ts = ?, channel = ?, thread_ts = ?, last_error = NULL WHERE id = ?",
            [iso(now), ts, channel, thread_ts, row["id"]],
        )
        if row["kind"] == "open" and row["incident_id"] is not None:
            db.conn.execute("UPDATE incidents SET channel = ?, ts = ? WHERE id = ?", [channel, ts, row["incident_id"]])


def deliver(deps: Deps, poster: Poster, now: datetime | None = None) -> tuple[list[PostedItem], int]:
    """Post every notification owed, oldest first; returns (what was posted, how many are still owed)."""
    store = deps.store
    now = now or deps.now()
    rows = store.query(
        "SELECT * FROM notifications WHERE sent_at IS NULL AND (not_before IS NULL OR not_before <= ?) ORDER BY id",
        [iso(now)],
    )
    posted: list[PostedItem] = []
    held: set[str] = set()  # channels rate-limited for the rest of this sweep
    for row in rows:
        incident = None
        if row["incident_id"] is not None:
            found = store.query("SELECT * FROM incidents WHERE id = ?", [row["incident_id"]])
            incident = Incident.from_row(found[0]) if found else None
        kind = row["kind"]
        parent_ts = incident.ts if incident else None
        if kind in ("update", "resolve", "parent_update") and not parent_ts:
            continue  # the parent is not posted yet: replies wait for it, in order
        if kind in ("open", "notice"):
            # A new message goes where alerts go now (the setting may have been fixed since it was owed).
            channel = deps.settings.alert_channel or row["channel"] or ""
        else:
            channel = (incident.channel if incident else None) or row["channel"] or ""
        if channel in held:
            continue
        if not _claim(store, row["id"], now):
            continue
        message = Message.from_dict(json.loads(row["blocks"])) if row.get("blocks") else Message(title=row["text"])
        landed_channel: str
        ts: str
        thread_ts: str | None
        try:
            if kind == "parent_update":
                assert parent_ts is not None  # replies without a posted parent waited above
                poster.update(channel, parent_ts, message)
                landed_channel, ts, thread_ts = channel, parent_ts, parent_ts
            elif kind in ("update", "resolve"):
                result = poster.post(channel, message, thread_ts=parent_ts)
                landed_channel, ts, thread_ts = result.channel, result.ts, parent_ts
            else:
                result = poster.post(channel, message)
                landed_channel, ts, thread_ts = result.channel, result.ts, None
        except PostError as exc:
            retry = now + timedelta(seconds=exc.retry_after) if exc.retry_after else None
            _release(store, row["id"], str(exc), retry)
            log.warning("alert %s not delivered (%s); it stays owed", row["id"], exc)
            if exc.retry_after is not None:
                held.add(channel)
            elif exc.transient:
                break  # the chat API is down: the rest waits for the next sweep
            continue
        except Exception as exc:  # a bug in rendering must not lose the alert either
            log.exception("alert %s failed to post", row["id"])
            _release(store, row["id"], f"{type(exc).__name__}: {exc}", None)
            continue
        _mark_sent(store, row, landed_channel, thread_ts, ts, now)
        if incident and kind == "open":
            incident.channel, incident.ts = landed_channel, ts
        posted.append(PostedItem(kind, landed_channel, thread_ts, ts, row["text"]))
    pending = store.query("SELECT COUNT(*) AS n FROM notifications WHERE sent_at IS NULL")[0]["n"]
    return posted, pending
