"""Outbox: deliver the owed `notifications`, oldest first, through a `bot.notify.Poster`.

Each row is claimed (a committed lease, `CLAIM_LEASE`), posted, and marked sent with the ts the poster
answered. A `PostError` releases the claim and keeps the row owed for a later sweep: not before the
`retry_after` the poster reported (a rate limit: that channel is skipped for the rest of this sweep); a
transient error (the chat API is down) ends this sweep's delivery; any other error skips only that row.
A reply waits until its parent is posted. A restart therefore neither repeats (sent ones are marked) nor
loses (unsent ones are retried) one. An error retrying cannot fix (`PostError.permanent`: the bot is not in
the channel, the token is dead, the message is refused) marks the message failed with its reason instead,
once and in one log line, with every other owed message it dooms (the channel's, or all of them for a dead
token); a later reply of an incident whose first message failed is posted as its new first message, so
the incident recovers once the bot can post again. `delivery_problem` says it until a later post lands.
Rows hold the neutral `Message`; which chat system carries it is the poster's business.

Exactly once, also across a crash: every message is posted carrying its `Mark` (the row's id and this
database's outbox instance; Slack keeps it in message metadata). A row tried before (a crash after the chat
system accepted the post but before it was marked sent, or an answer lost on the way) is first looked for in
the channel's recent messages (`Poster.find`) and, when found there, adopted: its ts recorded, marked sent,
nothing posted again. A claim names the process holding it (`claimed_by`: host, pid, the process's start), so
a restarted bot takes over the claims of a dead process on the same host at once (also one that had this
process's pid: a restarted container's bot is PID 1 again, told apart by its start); a claim by a process on
another host, or one that cannot be told dead, waits out `CLAIM_LEASE`.

Charts (`kind = 'chart'`) are delivered apart, after the messages (`deliver_charts`): drawn when delivered,
uploaded into the incident's thread, tried at most `CHART_ATTEMPTS` times; they never hold up, fail or
count among the alerts owed.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.alerts.records import Incident
from bot.deps import Deps
from bot.notify import Mark, Message, Posted, Poster, PostError
from bot.store import Store, iso, utcnow

log = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=10)  # a claim older than this belongs to a process that died mid-post
CHART_ATTEMPTS = 2  # a chart is tried this many times (sweeps) before it is skipped
THREAD_REPLIES = ("update", "resolve", "summary", "reminder", "reply")  # kinds posted in their incident's thread


@dataclass
class PostedItem:
    """One message delivered by this sweep."""

    kind: str  # open, update, resolve, summary, reminder, reply, parent_update, notice, digest
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


INSTANCE_KEY = "outbox_instance"  # kv: this database's outbox instance, carried in every message's Mark


def _start_ticks(pid: int) -> str:
    """When process `pid` started (clock ticks since boot, /proc/<pid>/stat field 22); "" if unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def claimer() -> str:
    """This process, as a claim names it: `host:pid:start`."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_ticks(pid)}"


def claimer_gone(claimed_by: str | None) -> bool:
    """Is the process that holds a claim known to be dead (same host, and its pid is gone or is another
    process now)? False when it may be alive, or lives elsewhere: then its claim waits out the lease.
    A claim with this process's pid but another start is a dead one's: a restarted container's bot is
    PID 1 again, on the same hostname."""
    host, _, rest = (claimed_by or "").partition(":")
    pid_text, _, start = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid != os.getpid():  # this process is alive: whether the claim is its own, its start says
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass  # alive, someone else's
    return bool(start) and _start_ticks(pid) not in ("", start)


def outbox_instance(store: Store) -> str:
    """This database's outbox instance (made once): two bots posting in one channel tell their messages apart."""
    value = store.kv_get(INSTANCE_KEY)
    if not value:
        with store.transaction() as db:  # two processes starting at once agree on the first one written
            db.conn.execute(
                "INSERT OR IGNORE INTO kv (key, value, updated_at) VALUES (?, ?, ?)",
                [INSTANCE_KEY, json.dumps(uuid.uuid4().hex[:12]), iso(utcnow())],
            )
        value = store.kv_get(INSTANCE_KEY)
    return str(value)


def _claim(store: Store, row: dict[str, Any], now: datetime) -> int | None:
    """Take the notification for this process (committed before posting), unless someone holds it; a holder
    known to be dead (`claimer_gone`) has its claim taken over whatever its age. Returns how many times it
    was tried before, as the claim found it (`row` may be older: another delivery in this process may have
    tried it since it was read); None when it was not taken."""
    held_by = row.get("claimed_by")
    dead = held_by if row.get("claimed_at") and claimer_gone(held_by) else None
    with store.transaction() as db:
        found = db.conn.execute(  # read to the end: the statement is done before the commit
            "UPDATE notifications SET claimed_at = ?, claimed_by = ?, attempts = attempts + 1 "
            "WHERE id = ? AND sent_at IS NULL AND (claimed_at IS NULL OR claimed_at < ? OR claimed_by = ?) "
            "RETURNING attempts",
            [iso(now), claimer(), row["id"], iso(now - CLAIM_LEASE), dead],
        ).fetchall()
    return int(found[0][0]) - 1 if found else None


def _incident_of(store: Store, row: dict[str, Any]) -> Incident | None:
    """The incident a notification belongs to; None for one of its own (or an incident gone)."""
    if row["incident_id"] is None:
        return None
    found = store.query("SELECT * FROM incidents WHERE id = ?", [row["incident_id"]])
    return Incident.from_row(found[0]) if found else None


def _after_ts(store: Store, row: dict[str, Any], channel: str) -> str | None:
    """The ts of the newest message in `channel` known to be older than this row's (posted before the row
    existed): where looking for the row's message may start. None: from the newest back."""
    found = store.conn.execute(
        "SELECT max(ts) FROM notifications WHERE channel = ? AND thread_ts IS NULL AND sent_at IS NOT NULL "
        "AND sent_at < ? AND kind <> 'chart'",
        [channel, row["created_at"]],
    ).fetchone()[0]
    try:
        float(found)
    except (TypeError, ValueError):
        return None
    return str(found)


def _release(store: Store, notification_id: int, error: str, not_before: datetime | None) -> None:
    with store.transaction() as db:
        db.conn.execute(
            "UPDATE notifications SET claimed_at = NULL, claimed_by = NULL, last_error = ?, not_before = ? "
            "WHERE id = ?",
            [error[:500], iso(not_before) if not_before else None, notification_id],
        )


def _fail(
    store: Store,
    row: dict[str, Any],
    incident: Incident | None,
    channel: str,
    alert_channel: str,
    exc: PostError,
    now: datetime,
) -> set[int]:
    """Mark the row failed for good, with every owed row the same error dooms; returns their ids."""
    reason = f"{exc.reason}: {exc.hint}" if exc.hint else exc.reason or str(exc)
    with store.transaction() as db:
        if exc.permanent == "token":
            doomed = [r[0] for r in db.conn.execute("SELECT id FROM notifications WHERE sent_at IS NULL")]
        elif exc.permanent == "channel":
            # Everything owed to that channel: new messages (they go to the alert channel) and the replies
            # and edits of incidents whose thread is there.
            doomed = [
                r[0]
                for r in db.conn.execute(
                    "SELECT n.id FROM notifications n LEFT JOIN incidents i ON i.id = n.incident_id "
                    "WHERE n.sent_at IS NULL AND (coalesce(i.channel, n.channel) = ? "
                    "OR (n.kind IN ('open', 'notice') AND ? = ?))",
                    [channel, alert_channel, channel],
                )
            ]
        else:
            doomed = []
        doomed = sorted({row["id"], *doomed})
        db.conn.executemany(
            "UPDATE notifications SET failed_at = ?, failed_reason = ?, claimed_at = NULL, last_error = ? "
            "WHERE id = ? AND sent_at IS NULL AND failed_at IS NULL",
            [(iso(now), reason[:500], str(exc)[:500], i) for i in doomed],
        )
    log.error(
        "alerts are not reaching %s: %s; %d message(s) marked failed, not retried",
        channel or "Slack",
        reason,
        len(doomed),
    )
    return set(doomed)


def delivery_problem(store: Store) -> dict[str, Any] | None:
    """The latest message Slack refused for good, when no post has landed since: {channel, reason, at,
    failed}; None when alerts are reaching Slack (or nothing failed)."""
    row = store.conn.execute(
        "SELECT channel, failed_reason, failed_at FROM notifications WHERE failed_at IS NOT NULL "
        "AND kind <> 'chart' ORDER BY failed_at DESC, id DESC LIMIT 1"
    ).fetchone()
    if not row:
        return None
    sent = store.conn.execute("SELECT max(sent_at) FROM notifications WHERE kind <> 'chart'").fetchone()[0]
    if sent and sent >= row[2]:
        return None
    n = store.conn.execute(
        "SELECT count(*) FROM notifications WHERE failed_at >= ? AND kind <> 'chart'", [row[2]]
    ).fetchone()[0]
    return {"channel": row[0], "reason": row[1], "at": row[2], "failed": n}


def delivery_problem_text(problem: dict[str, Any]) -> str:
    """One line for `status`, the terminal and /healthz."""
    where = f"<#{problem['channel']}>" if problem.get("channel") else "Slack"
    return f"alerts are not reaching {where}: {problem['reason']} ({problem['failed']} message(s) not posted)"


def _parent_failed(store: Store, incident_id: int) -> bool:
    """Did the incident's first message fail for good (so its thread will never exist)?"""
    row = store.conn.execute(
        "SELECT 1 FROM notifications WHERE incident_id = ? AND kind = 'open' AND failed_at IS NOT NULL LIMIT 1",
        [incident_id],
    ).fetchone()
    return row is not None


def _fail_quietly(store: Store, notification_id: int, reason: str, now: datetime) -> None:
    """Mark one row failed without a log line: what doomed it was logged when it happened."""
    with store.transaction() as db:
        db.conn.execute(
            "UPDATE notifications SET failed_at = ?, failed_reason = ? WHERE id = ? AND sent_at IS NULL",
            [iso(now), reason, notification_id],
        )


def _mark_sent(
    store: Store,
    row: dict[str, Any],
    channel: str,
    thread_ts: str | None,
    ts: str,
    now: datetime,
    *,
    parent: bool = False,
) -> None:
    """Mark the row sent; an `open` row (or a reply posted as the new `parent` of its incident) gives the
    incident its thread."""
    with store.transaction() as db:
        db.conn.execute(
            "UPDATE notifications SET sent_at = ?, ts = ?, channel = ?, thread_ts = ?, last_error = NULL, "
            "claimed_by = NULL WHERE id = ?",
            [iso(now), ts, channel, thread_ts, row["id"]],
        )
        if (row["kind"] == "open" or parent) and row["incident_id"] is not None:
            db.conn.execute("UPDATE incidents SET channel = ?, ts = ? WHERE id = ?", [channel, ts, row["incident_id"]])


def deliver(deps: Deps, poster: Poster, now: datetime | None = None) -> tuple[list[PostedItem], int]:
    """Post every notification owed, oldest first; returns (what was posted, how many are still owed)."""
    store = deps.store
    now = now or deps.now()
    rows = store.query(
        "SELECT * FROM notifications WHERE sent_at IS NULL AND failed_at IS NULL AND kind <> 'chart' "
        "AND (not_before IS NULL OR not_before <= ?) ORDER BY id",
        [iso(now)],
    )
    posted: list[PostedItem] = []
    held: set[str] = set()  # channels rate-limited (or failed for good) for the rest of this sweep
    failed: set[int] = set()  # rows marked failed during this sweep
    instance = outbox_instance(store) if rows else ""
    for row in rows:
        if row["id"] in failed:
            continue
        incident = _incident_of(store, row)
        kind = row["kind"]
        parent_ts = incident.ts if incident else None
        orphan = False  # a reply whose incident's first message failed for good: it becomes the new parent
        if (kind in THREAD_REPLIES or kind == "parent_update") and not parent_ts:
            if incident is None or not _parent_failed(store, incident.id):
                continue  # the parent is not posted yet: replies wait for it, in order
            if kind in ("parent_update", "reminder", "reply"):
                _fail_quietly(store, row["id"], "the incident's first message was never posted", now)
                continue
            orphan = True
        if kind in ("open", "notice"):
            # A new message goes where alerts go now (the setting may have been fixed since it was owed).
            channel = deps.settings.alert_channel or row["channel"] or ""
        else:
            channel = (incident.channel if incident else None) or row["channel"] or ""
        if channel in held:
            continue
        tried = _claim(store, row, now)
        if tried is None:
            continue
        message = Message.from_dict(json.loads(row["blocks"])) if row.get("blocks") else Message(title=row["text"])
        mark = Mark(int(row["id"]), instance)
        landed_channel: str
        ts: str
        thread_ts: str | None
        # Where the message goes: a reply in its incident's thread, or a message of its own.
        reply_to = parent_ts if kind in THREAD_REPLIES and not orphan else None
        try:
            already: Posted | None = None
            if kind != "parent_update" and tried > 0:
                # Tried before, outcome unknown (a crash after the post, an answer lost): is it there already?
                already = poster.find(channel, mark, thread_ts=reply_to, after_ts=_after_ts(store, row, channel))
            if already is not None:
                landed_channel, ts, thread_ts = already.channel, already.ts, reply_to
                log.info("alert %s was already in %s (ts %s): adopted, not posted again", row["id"], channel, ts)
            elif kind == "parent_update":
                assert parent_ts is not None  # replies without a posted parent waited above
                poster.update(channel, parent_ts, message)
                landed_channel, ts, thread_ts = channel, parent_ts, parent_ts
            else:
                result = poster.post(channel, message, thread_ts=reply_to, mark=mark)
                landed_channel, ts, thread_ts = result.channel, result.ts, reply_to
        except PostError as exc:
            if exc.permanent:
                failed |= _fail(store, row, incident, channel, deps.settings.alert_channel or "", exc, now)
                if exc.permanent == "token":
                    break
                if exc.permanent == "channel":
                    held.add(channel)
                continue
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
        _mark_sent(store, row, landed_channel, thread_ts, ts, now, parent=orphan)
        if incident and (kind == "open" or orphan):
            incident.channel, incident.ts = landed_channel, ts
        posted.append(PostedItem(kind, landed_channel, thread_ts, ts, row["text"]))
    return posted, owed_count(store)


def owed_count(store: Store) -> int:
    """How many messages are owed (not sent, not failed for good), charts left out."""
    return int(
        store.query(
            "SELECT COUNT(*) AS n FROM notifications WHERE sent_at IS NULL AND failed_at IS NULL AND kind <> 'chart'"
        )[0]["n"]
    )


def _skip_chart(store: Store, row: dict[str, Any], reason: str, now: datetime, *, quiet: bool = False) -> None:
    """A chart that will not be posted: marked failed (never retried again), in one log line."""
    with store.transaction() as db:
        db.conn.execute(
            "UPDATE notifications SET failed_at = ?, failed_reason = ?, claimed_at = NULL WHERE id = ? "
            "AND sent_at IS NULL",
            [iso(now), reason[:500], row["id"]],
        )
    if not quiet:
        log.warning("chart for incident #%s skipped: %s", row["incident_id"], reason)


def deliver_charts(deps: Deps, poster: Poster, now: datetime | None = None) -> list[PostedItem]:
    """Draw and upload the owed charts into their incident threads, after the messages (`deliver`), each
    from its incident's account (its CloudWatch, with `SESBOT_ACCOUNTS`).

    A chart never holds up an alert: it goes only where its incident's parent is posted (it needs the
    thread), each row is claimed like a message (never uploaded twice), and any failure — CloudWatch, the
    drawing, Slack — is a log line: the chart is tried again next sweep, `CHART_ATTEMPTS` times in all, then
    skipped. A refusal retrying cannot fix skips it at once; it never marks alerts failed or counts as a
    delivery problem. Of several charts owed for one incident only the newest is drawn.
    """
    from bot.charts import rate_chart

    store = deps.store
    now = now or deps.now()
    rows = store.query(
        "SELECT * FROM notifications WHERE kind = 'chart' AND sent_at IS NULL AND failed_at IS NULL "
        "AND (not_before IS NULL OR not_before <= ?) ORDER BY id DESC",
        [iso(now)],
    )
    posted: list[PostedItem] = []
    seen: set[int] = set()
    instance = outbox_instance(store) if rows else ""
    for row in rows:
        incident = _incident_of(store, row)
        if incident is None or incident.id in seen:
            _skip_chart(store, row, "a newer chart of the incident is owed", now, quiet=True)
            continue
        seen.add(incident.id)
        if not incident.ts:
            if _parent_failed(store, incident.id):
                _skip_chart(store, row, "the incident's first message was never posted", now, quiet=True)
            continue  # the parent is not posted yet: the chart waits for its thread
        tried = _claim(store, row, now)
        if tried is None:
            continue
        channel = incident.channel or row["channel"] or ""
        mark = Mark(int(row["id"]), instance)
        if tried > 0:  # tried before, outcome unknown (a crash after the upload?)
            try:
                already = poster.find(channel, mark, thread_ts=incident.ts)
            except PostError:
                already = None  # cannot look: upload it (at least once)
            if already is not None:
                log.info("chart %s was already in the thread of incident #%s: adopted", row["id"], incident.id)
                _mark_sent(store, row, channel, incident.ts, already.ts, now)
                continue
        views = deps.accounts(incident.account) if incident.account else [deps]
        if not views:  # the account was taken out of SESBOT_ACCOUNTS since the incident opened
            _skip_chart(store, row, f"no account named {incident.account} is configured any more", now)
            continue
        try:
            chart = rate_chart(views[0], incident.region, incident.scope, now=now)
            file_id = poster.upload(channel, incident.ts, chart.image, mark=mark)
        except Exception as exc:  # whatever fails, the alert text is out already: log, retry a little, skip
            reason = _chart_failure(exc)
            if (isinstance(exc, PostError) and exc.permanent) or tried + 1 >= CHART_ATTEMPTS:
                _skip_chart(store, row, reason, now)
            else:
                wait = exc.retry_after if isinstance(exc, PostError) else None
                _release(store, row["id"], reason, now + timedelta(seconds=wait) if wait else None)
                log.warning("chart for incident #%s not posted (%s); tried again next sweep", incident.id, reason)
            continue
        _mark_sent(store, row, channel, incident.ts, file_id, now)
        posted.append(PostedItem("chart", channel, incident.ts, file_id, chart.image.alt_text))
    return posted


def _chart_failure(exc: Exception) -> str:
    if isinstance(exc, PostError):
        return f"{exc}: {exc.hint}" if exc.hint else str(exc)
    from bot.aws import describe_error

    return describe_error(exc)
