"""Alerts: read the signals, turn level changes into incidents and owed messages, deliver them.

One `sweep(deps, poster)` does it all, in three steps:

1. **Read** each region's signals (network, outside any transaction): bounce and complaint rates from
   CloudWatch `AWS/SES` `Reputation.*` (account-wide and per configuration set; estimated from the event
   history when CloudWatch has no data), the account status and the daily quota from SESv2 `GetAccount`,
   and whether those reads worked at all (`aws_api`: one "cannot read metrics" incident per outage).
2. **Apply**, in one SQLite transaction: compare each reading with `alert_state`; a level change is a
   transition (healthchecks' Flip). Going up is immediate; going down needs the value below the current
   level for `recovery_sweeps` sweeps in a row, so a value hovering at a threshold does not flap. New
   blocklist bounces (rows of `events` past a watermark) are read and grouped here too. A transition
   opens, updates or resolves the signal's incident and *inserts the messages it owes* (`notifications`)
   in the same transaction: a crash either keeps both or neither.
3. **Deliver** every unsent notification, oldest first: claim it (a committed lease), post it through the
   `Poster`, mark it sent with its Slack ts. A `PostError` releases the claim and keeps it for the next
   sweep (after the `Retry-After` the poster reported); a reply waits until its parent is posted.
   A restart therefore neither repeats (sent ones are marked) nor loses (unsent ones are retried) one.

Message building (`*_message` functions) is pure: a `Message` from facts; rendering is the poster's job.
This module never imports Slack.

    >>> next_level(["ok", "elevated", "review"], "review", "ok", calm=1, calm_max="ok", recovery_sweeps=2)
    ('ok', 0, None)
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot import history
from bot.aws import describe_error
from bot.deps import Deps
from bot.findings import Severity
from bot.notify import Button, Message, Poster, PostError
from bot.settings import Settings
from bot.store import Store, iso

log = logging.getLogger(__name__)

# -- signals and their levels ------------------------------------------------------------------------

RATE_METRICS = {"bounce_rate": "Reputation.BounceRate", "complaint_rate": "Reputation.ComplaintRate"}
CONFIG_SET_DIMENSION = "ses:configuration-set"

QUOTA_LEVELS: tuple[tuple[str, float], ...] = (("quota_80", 0.80), ("quota_95", 0.95))
FIXED_LADDERS: dict[str, list[str]] = {
    "quota": ["ok"] + [name for name, _ in QUOTA_LEVELS],
    "account_status": ["ok", "probation", "paused", "shutdown"],
    "blocklist": ["ok", "listed"],
    "aws_api": ["ok", "unreachable"],
}
# The order signals are read and reported in.
SIGNALS = ("aws_api", "account_status", "bounce_rate", "complaint_rate", "blocklist", "quota")

LEVEL_LABELS = {
    "ok": "OK",
    "elevated": "elevated",
    "near_review": "near review",
    "review": "review",
    "near_suspension": "near pause",
    "suspension": "pause",
    "quota_80": "80% of the daily quota",
    "quota_95": "95% of the daily quota",
    "probation": "under review (probation)",
    "paused": "sending paused",
    "shutdown": "shut down by AWS",
    "listed": "blocklist bounces",
    "unreachable": "cannot read",
}
LEVEL_SEVERITY = {
    "ok": Severity.OK,
    "elevated": Severity.WARNING,
    "near_review": Severity.WARNING,
    "review": Severity.ERROR,
    "near_suspension": Severity.ERROR,
    "suspension": Severity.CRITICAL,
    "quota_80": Severity.WARNING,
    "quota_95": Severity.ERROR,
    "probation": Severity.ERROR,
    "paused": Severity.CRITICAL,
    "shutdown": Severity.CRITICAL,
    "listed": Severity.WARNING,
    "unreachable": Severity.WARNING,
}
SIGNAL_LABELS = {
    "bounce_rate": "bounce rate",
    "complaint_rate": "complaint rate",
    "blocklist": "blocklist bounces",
    "account_status": "account status",
    "quota": "daily sending quota",
    "aws_api": "metrics access",
}

# How far back the figures and the trend look.
CW_PERIOD = 300  # seconds; SES publishes the reputation metrics at about this resolution
TREND_DAYS = 3  # the sparkline: hourly maxima over these days
FRESH = timedelta(hours=24)  # a CloudWatch figure older than this is no current figure
ESTIMATE_WINDOW = timedelta(hours=24)  # the history window a rate estimate is computed over
MIN_ESTIMATE_SENDS = 100  # fewer sends than this in the window: no estimate (too noisy to alert on)
BEHIND_WINDOW = timedelta(hours=24)  # "top recipient domains and categories behind it"
BLOCKLIST_QUIET = timedelta(hours=1)  # a blocklist incident resolves only after this long without one
CLAIM_LEASE = timedelta(minutes=10)  # a claim older than this belongs to a process that died mid-post
KV_BLOCKLIST_MARK = "alerts.blocklist_rowid"
BLOCKLIST_CATEGORIES = ("ip_blocklist", "domain_blocklist")

ACK_ACTION = "sesbot_incident_ack"
BOUNCES_ACTION = "sesbot_incident_bounces"

DOCS_ENFORCEMENT = "https://docs.aws.amazon.com/ses/latest/dg/faqs-enforcement.html"
DOCS_REPUTATION = "https://docs.aws.amazon.com/ses/latest/dg/monitor-sender-reputation.html"
DOCS_QUOTAS = "https://docs.aws.amazon.com/ses/latest/dg/manage-sending-quotas.html"


def ladder(settings: Settings, signal: str) -> list[str]:
    """The levels of `signal`, lowest (`ok`) first."""
    if signal in RATE_METRICS:
        return ["ok"] + [name for name, _, _ in settings.rate_levels]
    return FIXED_LADDERS[signal]


def thresholds(settings: Settings, signal: str) -> dict[str, float]:
    """level -> the value at which it starts (rates and quota only)."""
    if signal == "bounce_rate":
        return {name: b for name, b, _ in settings.rate_levels}
    if signal == "complaint_rate":
        return {name: c for name, _, c in settings.rate_levels}
    if signal == "quota":
        return dict(QUOTA_LEVELS)
    return {}


def level_for_value(settings: Settings, signal: str, value: float) -> str:
    """The highest level whose threshold the value has reached."""
    level = "ok"
    for name, start in thresholds(settings, signal).items():
        if value >= start:
            level = name
    return level


def next_level(
    levels: list[str],
    current: str,
    raw: str,
    *,
    calm: int,
    calm_max: str | None,
    recovery_sweeps: int,
    hysteresis: bool = True,
    quiet_enough: bool = True,
) -> tuple[str, int, str | None]:
    """One sweep's step: (new level, calm sweeps, highest level seen while calm).

    Up is immediate. Down needs `recovery_sweeps` sweeps in a row below the current level (and
    `quiet_enough`); it then lands on the highest level seen during those sweeps, never lower.
    """
    index = {name: i for i, name in enumerate(levels)}
    cur, new = index.get(current, 0), index.get(raw, 0)
    if new > cur:
        return raw, 0, None
    if new == cur:
        return levels[cur], 0, None
    if not hysteresis:
        return raw, 0, None
    calm += 1
    if calm_max is None or index.get(calm_max, 0) < new:
        calm_max = raw
    if calm >= recovery_sweeps and quiet_enough:
        return calm_max, 0, None
    return levels[cur], calm, calm_max


# -- readings -------------------------------------------------------------------------------------


@dataclass
class Reading:
    """What one sweep saw of one signal. `level` None means "no figure": the stored level stays."""

    signal: str
    region: str
    scope: str = ""  # '' = the whole account, else a configuration set
    value: float | None = None
    estimate: bool = False
    level: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    trend: list[float | None] = field(default_factory=list)  # hourly, oldest first, ends now
    hysteresis: bool = True
    quiet: timedelta = timedelta(0)  # extra calm time a recovery needs (blocklist)


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

    def as_dict(self) -> dict[str, Any]:
        return {
            "signal": self.signal,
            "region": self.region,
            "scope": self.scope,
            "value": self.value,
            "estimate": self.estimate,
            "level": self.level,
            "previous_level": self.previous_level,
        }


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


@dataclass
class SweepResult:
    signals: list[Signal] = field(default_factory=list)
    posted: list[PostedItem] = field(default_factory=list)
    pending: int = 0  # notifications still owed after this sweep (failed or waiting)

    def as_dict(self) -> dict[str, Any]:
        return {"signals": [s.as_dict() for s in self.signals], "posted": [p.as_dict() for p in self.posted]}


@dataclass
class Incident:
    id: int
    signal: str
    region: str
    scope: str
    level: str  # the worst level reached
    status: str  # open, resolved
    opened_at: str
    resolved_at: str | None = None
    channel: str | None = None
    ts: str | None = None
    acked_by: str | None = None
    acked_at: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Incident:
        return cls(**{k: row.get(k) for k in cls.__dataclass_fields__})

    @property
    def label(self) -> str:
        return signal_label(self.signal, self.scope)


def signal_label(signal: str, scope: str = "") -> str:
    label = SIGNAL_LABELS.get(signal, signal)
    return f"{label} of configuration set {scope}" if scope else label


def upper_first(text: str) -> str:
    """'bounce rate of configuration set Marketing-EU' -> 'Bounce rate of ...' (str.capitalize lowers the rest)."""
    return text[:1].upper() + text[1:]


def fmt_pct(value: float | None) -> str:
    """0.052 -> '5.2%', 0.0008 -> '0.08%', 0.11 -> '11%'."""
    if value is None:
        return "no data"
    return f"{value * 100:.3g}%"


def fmt_value(signal: str, value: float | None) -> str:
    if signal in RATE_METRICS or signal == "quota":
        return fmt_pct(value)
    if value is None:
        return ""
    return f"{value:g}"


def _human_time(text: str | None) -> str:
    return (text or "")[:16].replace("T", " ") + " UTC" if text else ""


# -- reading AWS ----------------------------------------------------------------------------------


def _floor(dt: datetime, seconds: int) -> datetime:
    epoch = int(dt.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


def read_cloudwatch(cw: Any, now: datetime) -> dict[tuple[str, str], list[tuple[datetime, float]]]:
    """(signal, scope) -> 5-minute points of the last `TREND_DAYS` days, oldest first.

    The account-wide series is always asked for; configuration sets only when `list_metrics` shows the
    metric with an `ses:configuration-set` dimension (it exists once reputation metrics are on for it).
    """
    scopes: dict[str, set[str]] = {signal: {""} for signal in RATE_METRICS}
    for signal, metric in RATE_METRICS.items():
        for page in cw.get_paginator("list_metrics").paginate(Namespace="AWS/SES", MetricName=metric):
            for m in page.get("Metrics", []):
                dims = m.get("Dimensions") or []
                if len(dims) == 1 and dims[0].get("Name") == CONFIG_SET_DIMENSION and dims[0].get("Value"):
                    scopes[signal].add(dims[0]["Value"])
    queries, keys = [], {}
    for signal, metric in RATE_METRICS.items():
        for scope in sorted(scopes[signal]):
            qid = f"q{len(queries)}"
            keys[qid] = (signal, scope)
            dims = [{"Name": CONFIG_SET_DIMENSION, "Value": scope}] if scope else []
            queries.append(
                {
                    "Id": qid,
                    "MetricStat": {
                        "Metric": {"Namespace": "AWS/SES", "MetricName": metric, "Dimensions": dims},
                        "Period": CW_PERIOD,
                        "Stat": "Average",
                    },
                    "ReturnData": True,
                }
            )
    out: dict[tuple[str, str], list[tuple[datetime, float]]] = {key: [] for key in keys.values()}
    # GetMetricData takes at most 500 queries a call.
    for start in range(0, len(queries), 500):
        kwargs: dict[str, Any] = {
            "MetricDataQueries": queries[start : start + 500],
            "StartTime": _floor(now - timedelta(days=TREND_DAYS), CW_PERIOD),
            "EndTime": _floor(now, CW_PERIOD) + timedelta(seconds=CW_PERIOD),
            "ScanBy": "TimestampAscending",
        }
        while True:
            answer = cw.get_metric_data(**kwargs)
            for result in answer.get("MetricDataResults", []):
                key = keys.get(result.get("Id"))
                if key is None:
                    continue
                for ts, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=False):
                    out[key].append((ts.astimezone(UTC), float(value)))
            token = answer.get("NextToken")
            if not token:
                break
            kwargs["NextToken"] = token
    for points in out.values():
        points.sort(key=lambda p: p[0])
    return out


def hourly_trend(points: Iterable[tuple[datetime, float]], now: datetime, days: int = TREND_DAYS) -> list[float | None]:
    """Hourly maxima, oldest first, the last slot holding the current hour; None where no point fell."""
    slots: list[float | None] = [None] * (days * 24)
    end = _floor(now, 3600) + timedelta(hours=1)
    for ts, value in points:
        index = len(slots) - 1 - int((end - ts).total_seconds() // 3600)
        if 0 <= index < len(slots):
            current = slots[index]
            slots[index] = value if current is None else max(current, value)
    return slots


def _latest(points: list[tuple[datetime, float]], now: datetime) -> float | None:
    fresh = [v for ts, v in points if now - FRESH <= ts <= now + timedelta(seconds=CW_PERIOD)]
    return fresh[-1] if fresh else None


def estimate_rate(store: Store, signal: str, now: datetime, config_set: str | None = None) -> float | None:
    """The rate recomputed from the event history over `ESTIMATE_WINDOW`; None below `MIN_ESTIMATE_SENDS`.

    Too few sends make a meaningless rate (1 bounce in 10 sends is not "10%, AWS may pause you").
    """
    # The window is half-open: a minute past "now" so events stamped now (or by a clock slightly ahead) count.
    until = now + timedelta(minutes=1)
    estimate = history.rate_estimate(store, now - ESTIMATE_WINDOW, until, config_set=config_set)
    value = estimate.get(signal)
    if value is None or int(estimate.get("sends") or 0) < MIN_ESTIMATE_SENDS:
        return None
    return float(value)


def estimate_trend(store: Store, signal: str, now: datetime, config_set: str | None = None) -> list[float | None]:
    """Hourly estimated rates (from `history.hourly_series`) for the sparkline when CloudWatch has nothing."""
    counted = "hard_bounces_counted" if signal == "bounce_rate" else "complaints"
    points = []
    since = now - timedelta(days=TREND_DAYS)
    for row in history.hourly_series(store, since, now + timedelta(minutes=1), config_set=config_set):
        if row["sends"]:
            hour = datetime.fromisoformat(row["hour"] + ":00:00+00:00")
            points.append((hour, row[counted] / row["sends"]))
    return hourly_trend(points, now)


def _account_level(account: dict[str, Any]) -> str:
    status = str(account.get("EnforcementStatus") or "").upper()
    if status == "SHUTDOWN":
        return "shutdown"
    if account.get("SendingEnabled") is False:
        return "paused"
    if status == "PROBATION":
        return "probation"
    return "ok"  # HEALTHY, and values AWS may add later: their change is still reported as a notice


def account_readings(region: str, account: dict[str, Any]) -> list[Reading]:
    """The account-status and quota readings of one `GetAccount` answer."""
    detail = {
        "sending_enabled": account.get("SendingEnabled"),
        "enforcement_status": account.get("EnforcementStatus"),
        "production_access": account.get("ProductionAccessEnabled"),
    }
    out = [Reading("account_status", region, level=_account_level(account), detail=detail, hysteresis=False)]
    quota = account.get("SendQuota") or {}
    limit, sent = quota.get("Max24HourSend"), quota.get("SentLast24Hours")
    quota_detail = {"max_24h": limit, "sent_last_24h": sent, "max_rate": quota.get("MaxSendRate")}
    if limit is not None and sent is not None and float(limit) > 0:
        used = float(sent) / float(limit)
        level = "ok"
        for name, start in QUOTA_LEVELS:
            if used >= start:
                level = name
        out.append(Reading("quota", region, value=used, level=level, detail=quota_detail))
    else:  # -1 = unlimited: nothing to cross
        out.append(Reading("quota", region, value=None, level="ok", detail=quota_detail))
    return out


def rate_readings(
    deps: Deps, region: str, series: dict[tuple[str, str], list[tuple[datetime, float]]], now: datetime
) -> list[Reading]:
    """Bounce and complaint readings: CloudWatch's figure, else the history's estimate, else none."""
    out = []
    for (signal, scope), points in sorted(series.items()):
        value = _latest(points, now)
        estimate = False
        trend = hourly_trend(points, now)
        if value is None:
            value = estimate_rate(deps.store, signal, now, config_set=scope or None)
            estimate = value is not None
            if estimate and not any(v is not None for v in trend):
                trend = estimate_trend(deps.store, signal, now, config_set=scope or None)
        level = None if value is None else level_for_value(deps.settings, signal, value)
        out.append(Reading(signal, region, scope, value=value, estimate=estimate, level=level, trend=trend))
    return out


def read_region(deps: Deps, region: str, now: datetime) -> list[Reading]:
    """Every AWS-backed reading of one region, plus `aws_api` saying whether the reads worked.

    A failed read leaves that signal out (its stored level stays): an outage is one `aws_api` alert,
    never a storm of "no data" transitions.
    """
    readings: list[Reading] = []
    errors: list[str] = []
    try:
        account = deps.aws.get("sesv2", region).get_account()
        readings += account_readings(region, account)
    except Exception as exc:  # any failure to read is reported, never raised out of the sweep
        log.warning("GetAccount failed in %s: %s", region, describe_error(exc))
        errors.append(f"SES GetAccount: {describe_error(exc)}")
    try:
        series = read_cloudwatch(deps.aws.get("cloudwatch", region), now)
    except Exception as exc:
        log.warning("CloudWatch read failed in %s: %s", region, describe_error(exc))
        errors.append(f"CloudWatch: {describe_error(exc)}")
    else:
        readings += rate_readings(deps, region, series, now)
    api = Reading("aws_api", region, level="unreachable" if errors else "ok", detail={"errors": errors})
    return [api, *readings]


# -- blocklist bounces (local) --------------------------------------------------------------------


def _rows(conn: sqlite3.Connection, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
    cur = conn.execute(sql, list(params))
    names = [d[0] for d in cur.description or []]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _kv(conn: sqlite3.Connection, key: str) -> Any:
    row = conn.execute("SELECT value FROM kv WHERE key = ?", [key]).fetchone()
    return json.loads(row[0]) if row else None


def _kv_put(conn: sqlite3.Connection, key: str, value: Any, now: datetime) -> None:
    conn.execute(
        "INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        [key, json.dumps(value), iso(now)],
    )


def blocklist_readings(conn: sqlite3.Connection, settings: Settings, now: datetime) -> list[Reading]:
    """New blocklist bounces since the last sweep, grouped by (blocklist, sending IP, recipient domain).

    "New" is by rowid past a watermark kept in `kv`, moved in the same transaction: rowids grow in commit
    order, so an event committed while the sweep runs is never skipped, and none is counted twice.
    On the very first sweep, only events received in the last sweep interval count (no alert on old
    history).
    """
    mark = _kv(conn, KV_BLOCKLIST_MARK)
    top = conn.execute("SELECT COALESCE(MAX(rowid), 0) FROM events").fetchone()[0]
    where = "type IN ('Bounce', 'DeliveryDelay') AND category IN ('ip_blocklist', 'domain_blocklist')"
    if mark is None or int(mark) > top:  # first sweep, or the table was emptied and rowids restarted
        since = iso(now - timedelta(minutes=settings.sweep_minutes))
        rows = _rows(conn, f"SELECT * FROM events WHERE {where} AND received_at >= ? AND rowid <= ?", [since, top])
    else:
        rows = _rows(conn, f"SELECT * FROM events WHERE {where} AND rowid > ? AND rowid <= ?", [int(mark), top])
    _kv_put(conn, KV_BLOCKLIST_MARK, top, now)
    default = settings.regions[0] if settings.regions else ""
    by_region: dict[str, list[dict[str, Any]]] = {r: [] for r in settings.regions or [default]}
    for row in rows:
        region = row.get("region") if row.get("region") in by_region else default
        by_region.setdefault(region, []).append(row)
    out = []
    for region, events in by_region.items():
        groups = group_blocklist_events(events)
        out.append(
            Reading(
                "blocklist",
                region,
                value=float(len(events)),
                level="listed" if events else "ok",
                detail={"groups": groups, "count": len(events)},
                quiet=BLOCKLIST_QUIET,
            )
        )
    return out


def group_blocklist_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Groups by (blocklist, sending IP, recipient domain), biggest first, with one example text."""
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    for e in events:
        key = (
            e.get("blocklist") or "unnamed list",
            e.get("sending_ip") or "unknown IP",
            e.get("domain") or "?",
        )
        g = groups.setdefault(
            key,
            {
                "blocklist": key[0],
                "sending_ip": key[1],
                "domain": key[2],
                "count": 0,
                "category": e.get("category"),
                "example": None,
                "first": e.get("timestamp"),
                "last": e.get("timestamp"),
            },
        )
        g["count"] += 1
        g["example"] = g["example"] or (e.get("diagnostic") or "")[:300] or None
        ts = e.get("timestamp") or ""
        g["first"] = min(g["first"] or ts, ts)
        g["last"] = max(g["last"] or ts, ts)
    return sorted(groups.values(), key=lambda g: (-g["count"], g["blocklist"], g["sending_ip"], g["domain"]))


# -- what is behind a rate ------------------------------------------------------------------------


def behind(conn: sqlite3.Connection, signal: str, region: str, scope: str, now: datetime) -> dict[str, Any]:
    """The top recipient domains and categories of the events behind a rate, from the history."""
    if signal == "bounce_rate":
        where, column = "type = 'Bounce' AND bounce_type = 'Permanent'", "COALESCE(category, bounce_subtype)"
    elif signal == "complaint_rate":
        where, column = "type = 'Complaint'", "COALESCE(complaint_type, 'not given')"
    else:
        return {"domains": [], "categories": []}
    params: list[Any] = [iso(now - BEHIND_WINDOW), region]
    where += " AND timestamp >= ? AND (region = ? OR region IS NULL)"
    if scope:
        where += " AND config_set = ?"
        params.append(scope)
    domains = _rows(
        conn,
        f"SELECT domain AS name, COUNT(*) AS n FROM events WHERE {where} GROUP BY domain ORDER BY n DESC, name LIMIT 5",
        params,
    )
    categories = _rows(
        conn,
        f"SELECT {column} AS name, COUNT(*) AS n FROM events WHERE {where} GROUP BY 1 ORDER BY n DESC, name LIMIT 5",
        params,
    )
    return {
        "domains": [(d["name"] or "?", d["n"]) for d in domains],
        "categories": [(c["name"] or "unclassified", c["n"]) for c in categories],
    }


# -- messages (pure) ------------------------------------------------------------------------------

BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float | None], top: float) -> str:
    """One character per value, scaled so that `top` (the pause threshold) and above is a full bar."""
    out = []
    for v in values:
        if v is None:
            out.append("·")
        else:
            out.append(BARS[max(0, min(len(BARS) - 1, int(v / top * len(BARS))))] if top > 0 else BARS[0])
    return "".join(out)


@dataclass
class Facts:
    """Everything a message about one signal says, gathered before building it."""

    signal: str
    region: str
    scope: str
    level: str
    previous_level: str | None
    value: float | None
    estimate: bool
    levels: list[str]
    thresholds: dict[str, float]
    recovery_sweeps: int
    now: datetime
    trend: list[float | None] = field(default_factory=list)
    behind: dict[str, Any] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)
    incident_id: int | None = None
    opened_at: str | None = None
    worst_level: str | None = None
    worst_value: float | None = None

    @property
    def label(self) -> str:
        return signal_label(self.signal, self.scope)

    @property
    def figure(self) -> str:
        text = fmt_value(self.signal, self.value)
        if self.signal in RATE_METRICS:
            text += " (estimate from the event history)" if self.estimate else " (CloudWatch)"
        return text


def _level_text(f: Facts, level: str) -> str:
    start = f.thresholds.get(level)
    label = LEVEL_LABELS.get(level, level)
    return f"{label} (from {fmt_pct(start)})" if start is not None else label


ACCOUNT_MEANING = {
    "probation": ["AWS has placed the account under review (EnforcementStatus PROBATION) in this region."],
    "paused": ["Sending is disabled for the account in this region: SES accepts nothing."],
    "shutdown": ["AWS has shut down sending for the account in this region (EnforcementStatus SHUTDOWN)."],
}


def _meaning(f: Facts) -> list[str]:
    """What the level means, in AWS's terms."""
    if f.signal in RATE_METRICS:
        review, pause = f.thresholds.get("review"), f.thresholds.get("suspension")
        keep = f.thresholds.get(f.levels[1]) if len(f.levels) > 1 else None
        kind = "bounces" if f.signal == "bounce_rate" else "complaints"
        lines = {
            "elevated": f"Above the {fmt_pct(keep)} AWS asks senders to stay under; no action from AWS yet.",
            "near_review": f"Close to {fmt_pct(review)}, where AWS places the account under review.",
            "review": f"At this rate of {kind} AWS places the account under review (status PROBATION).",
            "near_suspension": f"Close to {fmt_pct(pause)}, where AWS may pause the account's sending.",
            "suspension": f"At this rate of {kind} AWS may pause the whole account's sending in {f.region}.",
        }
        out = [lines.get(f.level, "")] if f.level in lines else []
        out.append(f"AWS reviews the account at {fmt_pct(review)} and may pause it at {fmt_pct(pause)}.")
        if f.estimate:
            out.append("CloudWatch has no figure, so this is estimated from the events the bot received.")
        return out
    if f.signal == "quota":
        d = f.detail
        return [
            f"Sent {d.get('sent_last_24h', 0):g} of {d.get('max_24h', 0):g} in the last 24 hours.",
            "At 100% SES refuses sends with 'Daily message quota exceeded' until the window moves on.",
        ]
    if f.signal == "account_status":
        return ACCOUNT_MEANING.get(f.level, []) + list(f.detail.get("changes", []))
    if f.signal == "blocklist":
        return [
            "Receivers refused mail because a sending IP or domain is on a blocklist.",
            "Blocklist bounces do not count toward the bounce rate, but the mail did not arrive.",
        ]
    if f.signal == "aws_api":
        return [
            "The bot cannot read the account's figures here, so it cannot warn about them.",
            *[str(e) for e in f.detail.get("errors", [])],
        ]
    return []


def _todo(f: Facts) -> list[str]:
    """What to do, per signal."""
    if f.signal == "bounce_rate":
        return [
            "Pause or slow the sending behind it (the domains and configuration set above).",
            "Stop mailing addresses that hard-bounced; find where they came from (an old or bought list?).",
            "Keep BOUNCE in the account suppression list so SES stops repeat attempts.",
            f"AWS's guidance: {DOCS_ENFORCEMENT}",
        ]
    if f.signal == "complaint_rate":
        return [
            "Find the mail that drew complaints (the domains above) and stop that sending.",
            "Send only to people who asked for it; make unsubscribing one click (List-Unsubscribe).",
            "Keep COMPLAINT in the account suppression list.",
            f"AWS's guidance: {DOCS_ENFORCEMENT}",
        ]
    if f.signal == "blocklist":
        return [
            "Check each listing at the blocklist's site (links above); request delisting after the fix.",
            "On SES's shared IPs, open a case with AWS Support; on dedicated IPs, find what changed "
            "(a new list, a volume spike).",
            "`why <address>` diagnoses one affected recipient.",
        ]
    if f.signal == "quota":
        return [
            "Spread large sends over the day, or request a higher quota (Service Quotas, SES sending quota).",
            f"How: {DOCS_QUOTAS}",
        ]
    if f.signal == "account_status":
        if f.level == "ok":
            return []
        return [
            "Read AWS's notice (email to the account owner, SES console reputation page), fix the cause.",
            "Answer AWS through the case it opened; if your team paused sending, re-enable it when ready.",
            f"AWS's guidance: {DOCS_ENFORCEMENT}",
        ]
    if f.signal == "aws_api":
        return [
            "Check the bot's AWS credentials, network and IAM policy (cloudwatch:GetMetricData, "
            "cloudwatch:ListMetrics, ses:GetAccount).",
            "Alerts for this region are on hold until the bot can read again; it retries every sweep.",
        ]
    return []


def _chart(f: Facts) -> list[str]:
    if f.signal not in RATE_METRICS or not any(v is not None for v in f.trend):
        return []
    top = f.thresholds.get("suspension") or max(f.thresholds.values(), default=1.0)
    review = f.thresholds.get("review")
    legend = f"scale: {BARS[0]} 0%"
    if review is not None:
        legend += f"  {sparkline([review], top)} review {fmt_pct(review)}"
    legend += f"  {BARS[-1]} pause {fmt_pct(top)}+  · no data"
    kind = "estimated " if f.estimate else ""
    return [
        f"{f.label}, {kind}hourly maximum, last {TREND_DAYS} days (right = now):",
        sparkline(f.trend, top),
        legend,
    ]


def _behind_sections(f: Facts) -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    domains = f.behind.get("domains") or []
    categories = f.behind.get("categories") or []
    window = int(BEHIND_WINDOW.total_seconds() // 3600)
    if domains:
        out.append((f"Top recipient domains (last {window} h)", [f"{name}: {n}" for name, n in domains]))
    if categories:
        head = "Bounce categories" if f.signal == "bounce_rate" else "Complaint types"
        out.append((f"{head} (last {window} h)", [f"{name}: {n}" for name, n in categories]))
    groups = f.detail.get("groups") or []
    if groups:
        out.append(("New blocklist bounces", blocklist_lines(groups)))
    return out


def blocklist_lines(groups: list[dict[str, Any]], limit: int = 10) -> list[str]:
    from bot.classify import delist_url_for

    lines = []
    for g in groups[:limit]:
        line = f"{g['blocklist']}, sending IP {g['sending_ip']}, to {g['domain']}: {g['count']}"
        url = delist_url_for(g["blocklist"]) if g.get("blocklist") else None
        if url:
            line += f" (delisting: {url})"
        lines.append(line)
        if g.get("example"):
            lines.append(f"    e.g. {g['example'][:200]}")
    if len(groups) > limit:
        lines.append(f"... and {len(groups) - limit} more groups")
    return lines


def _buttons(f: Facts) -> list[Button]:
    if f.incident_id is None:
        return []
    value = str(f.incident_id)
    out = [Button("Acknowledge", ACK_ACTION, value, "primary")]
    if f.signal in ("bounce_rate", "complaint_rate", "blocklist"):
        out.append(Button("Show bounces", BOUNCES_ACTION, value))
    return out


def _title(f: Facts) -> str:
    where = f" in {f.region}"
    if f.signal in RATE_METRICS or f.signal == "quota":
        level = LEVEL_LABELS.get(f.level, f.level)
        return f"{upper_first(f.label)} {fmt_value(f.signal, f.value)}{where}: {level}"
    if f.signal == "blocklist":
        n = int(f.value or 0)
        return f"{n} new blocklist bounce{'' if n == 1 else 's'}{where}"
    if f.signal == "aws_api":
        return f"Cannot read metrics{where}"
    return f"Account status{where}: {LEVEL_LABELS.get(f.level, f.level)}"


def _fields(f: Facts) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if f.signal in RATE_METRICS or f.signal == "quota":
        out.append(("Now", f.figure))
        out.append(("Level", _level_text(f, f.level)))
        higher = (
            [lv for lv in f.levels[f.levels.index(f.level) + 1 :] if lv in f.thresholds] if f.level in f.levels else []
        )
        if higher:
            out.append(("Next", _level_text(f, higher[0])))
    elif f.signal == "account_status":
        d = f.detail
        out += [
            ("Sending enabled", "yes" if d.get("sending_enabled") else "no"),
            ("Enforcement status", str(d.get("enforcement_status") or "unknown")),
            ("Production access", "yes" if d.get("production_access") else "no (sandbox)"),
        ]
    out.append(("Region", f.region))
    if f.scope:
        out.append(("Configuration set", f.scope))
    return out


def open_message(f: Facts) -> Message:
    """The incident's parent message: figure, threshold, meaning, trend, what is behind it, what to do."""
    sections = _behind_sections(f)
    todo = _todo(f)
    if todo:
        sections.append(("What to do", todo))
    return Message(
        title=_title(f),
        severity=LEVEL_SEVERITY.get(f.level, Severity.WARNING),
        fields=_fields(f),
        lines=_meaning(f),
        sections=sections,
        chart=_chart(f),
        buttons=_buttons(f),
        footer=f"Incident #{f.incident_id} opened {_human_time(f.opened_at or iso(f.now))}. "
        "Mention the bot here with `status` or `ack`.",
    )


def change_message(f: Facts) -> Message:
    """A thread reply: the level went up or down (still not OK)."""
    before = f.levels.index(f.previous_level) if f.previous_level in f.levels else 0
    worse = f.levels.index(f.level) > before if f.level in f.levels else True
    word = "Worse" if worse else "Better"
    lines = [f"Now {_level_text(f, f.level)}, was {LEVEL_LABELS.get(f.previous_level or 'ok', 'OK')}."]
    if worse:
        lines += _meaning(f)[:1]
    return Message(
        title=f"{word}: {f.label} {fmt_value(f.signal, f.value)}".rstrip() + f" in {f.region}",
        severity=LEVEL_SEVERITY.get(f.level, Severity.WARNING),
        fields=_fields(f),
        lines=lines,
        chart=_chart(f) if worse else [],
    )


def more_blocklist_message(f: Facts) -> Message:
    """A thread reply: more blocklist bounces while the incident is open."""
    return Message(
        title=f"{int(f.value or 0)} more blocklist bounce{'' if int(f.value or 0) == 1 else 's'} in {f.region}",
        severity=Severity.WARNING,
        sections=[("New since the last sweep", blocklist_lines(f.detail.get("groups") or []))],
    )


def resolve_message(f: Facts) -> Message:
    """A thread reply: back to OK."""
    if f.signal == "blocklist":
        why = f"No new blocklist bounce for {int(BLOCKLIST_QUIET.total_seconds() // 60)} minutes or more."
    elif f.signal in RATE_METRICS or f.signal == "quota":
        first = f.thresholds.get(f.levels[1]) if len(f.levels) > 1 else None
        why = f"Below {fmt_pct(first)} for {f.recovery_sweeps} sweeps in a row; now {f.figure}."
    elif f.signal == "aws_api":
        why = "The bot reads the account's figures again."
    else:
        why = "Sending enabled, enforcement status HEALTHY."
    lines = [why, *f.detail.get("changes", [])]
    return Message(title=f"Resolved: {f.label} in {f.region}", severity=Severity.OK, lines=lines)


def parent_message(f: Facts, *, resolved: bool = False) -> Message:
    """The parent message as it should read now: the open message at a worse level, or resolved."""
    if not resolved:
        return open_message(f)
    worst = f.worst_level or f.level
    lines = [f"Worst level reached: {LEVEL_LABELS.get(worst, worst)}"]
    if f.worst_value is not None and (f.signal in RATE_METRICS or f.signal == "quota"):
        lines[0] += f" ({fmt_value(f.signal, f.worst_value)})"
    lines.append(f"Opened {_human_time(f.opened_at)}, resolved {_human_time(iso(f.now))}.")
    fields = [("Region", f.region)] + ([("Configuration set", f.scope)] if f.scope else [])
    return Message(
        title=f"Resolved: {f.label} in {f.region}",
        severity=Severity.OK,
        fields=fields,
        lines=lines,
        footer=f"Incident #{f.incident_id}. The thread has the timeline.",
    )


def notice_message(f: Facts, changes: list[str]) -> Message:
    """An account change that is no level change (production access granted or lost, a new status)."""
    lost = any("sandbox" in c for c in changes)
    return Message(
        title=f"Account change in {f.region}",
        severity=Severity.WARNING if lost else Severity.INFO,
        fields=_fields(f),
        lines=changes,
    )


# -- applying readings (one transaction) ----------------------------------------------------------


@dataclass
class _Owed:
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
    rows = _rows(
        conn,
        "SELECT * FROM incidents WHERE status = 'open' AND signal = ? AND region = ? AND scope = ? "
        "ORDER BY id DESC LIMIT 1",
        [r.signal, r.region, r.scope],
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


def _apply(conn: sqlite3.Connection, deps: Deps, r: Reading, now: datetime, notify: bool) -> tuple[Signal, list[_Owed]]:
    settings = deps.settings
    levels = ladder(settings, r.signal)
    rows = _rows(
        conn,
        "SELECT * FROM alert_state WHERE signal = ? AND region = ? AND scope = ?",
        [r.signal, r.region, r.scope],
    )
    state = rows[0] if rows else None
    previous = state["level"] if state else None
    detail_before = json.loads(state["detail"]) if state and state.get("detail") else {}
    current = previous or "ok"
    if r.level is None:  # no figure this sweep: keep everything as it was
        value = state["value"] if state else None
        estimate = bool(state["estimate"]) if state else False
        return Signal(r.signal, r.region, r.scope, value, estimate, current, previous), []

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
    conn.execute(
        "INSERT INTO alert_state "
        "(signal, region, scope, level, value, estimate, calm_sweeps, detail, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (signal, region, scope) DO UPDATE SET "
        "level = excluded.level, value = excluded.value, estimate = excluded.estimate, "
        "calm_sweeps = excluded.calm_sweeps, detail = excluded.detail, updated_at = excluded.updated_at",
        [r.signal, r.region, r.scope, new, r.value, int(r.estimate), calm, json.dumps(detail), iso(now)],
    )
    signal = Signal(r.signal, r.region, r.scope, r.value, r.estimate, new, previous)
    if not notify:
        return signal, []
    return signal, _transitions(conn, deps, r, now, previous, current, new, detail_before)


def _facts(conn: sqlite3.Connection, deps: Deps, r: Reading, now: datetime, previous: str | None, new: str) -> Facts:
    return Facts(
        signal=r.signal,
        region=r.region,
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
        behind=behind(conn, r.signal, r.region, r.scope, now),
        detail=r.detail,
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
) -> list[_Owed]:
    """The incident changes and messages one reading owes."""
    levels = ladder(deps.settings, r.signal)
    channel = deps.settings.alert_channel or ""
    owed: list[_Owed] = []
    incident = _open_incident(conn, r)
    changes = _account_changes(detail_before, r.detail) if r.signal == "account_status" and previous else []

    def facts() -> Facts:
        f = _facts(conn, deps, r, now, current, new)
        f.detail = {**f.detail, "changes": changes}
        return f

    def owe(kind: str, message: Message, inc: Incident | None) -> None:
        owed.append(_Owed(inc.id if inc else None, kind, r.signal, r.region, current, new, r.value, channel, message))

    if new != current:
        f = facts()
        if new != "ok" and incident is None:
            cur = conn.execute(
                "INSERT INTO incidents (signal, region, scope, level, status, opened_at, channel) "
                "VALUES (?, ?, ?, ?, 'open', ?, ?)",
                [r.signal, r.region, r.scope, new, iso(now), channel],
            )
            incident = Incident(cur.lastrowid, r.signal, r.region, r.scope, new, "open", iso(now), channel=channel)
            f.incident_id, f.opened_at = incident.id, incident.opened_at
            owe("open", open_message(f), incident)
        elif new != "ok" and incident is not None:
            f.incident_id, f.opened_at = incident.id, incident.opened_at
            owe("update", change_message(f), incident)
            if levels.index(new) > (levels.index(incident.level) if incident.level in levels else 0):
                conn.execute("UPDATE incidents SET level = ? WHERE id = ?", [new, incident.id])
                owe("parent_update", parent_message(f), incident)
        elif new == "ok" and incident is not None:
            f.incident_id, f.opened_at = incident.id, incident.opened_at
            f.worst_level = incident.level
            worst = conn.execute(
                "SELECT MAX(value) FROM notifications WHERE incident_id = ?", [incident.id]
            ).fetchone()[0]
            f.worst_value = worst
            conn.execute(
                "UPDATE incidents SET status = 'resolved', resolved_at = ? WHERE id = ?",
                [iso(now), incident.id],
            )
            owe("resolve", resolve_message(f), incident)
            owe("parent_update", parent_message(f, resolved=True), incident)
        return owed

    # No level change: news worth a message all the same.
    if r.signal == "blocklist" and r.level == "listed" and new == "listed" and incident is not None and previous:
        owe("update", more_blocklist_message(facts()), incident)
    elif changes:
        owe("update" if incident else "notice", notice_message(facts(), changes), incident)
    return owed


def _insert_owed(conn: sqlite3.Connection, owed: _Owed, now: datetime) -> None:
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


# -- delivering -----------------------------------------------------------------------------------


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
        try:
            if kind == "parent_update":
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


# -- the sweep ------------------------------------------------------------------------------------


def read_all(deps: Deps, now: datetime) -> list[Reading]:
    """Every AWS-backed reading of every configured region."""
    readings: list[Reading] = []
    for region in deps.settings.regions:
        readings += read_region(deps, region, now)
    return readings


def sweep(deps: Deps, poster: Poster | None) -> SweepResult:
    """Read every signal once, record the transitions and the messages they owe, deliver what is owed.

    With `poster=None` the levels are recorded but nothing is owed (no alert channel configured).
    """
    now = deps.now()
    readings = read_all(deps, now)
    result = SweepResult()
    with deps.store.transaction() as db:
        conn = db.conn
        readings += blocklist_readings(conn, deps.settings, now)
        readings.sort(key=lambda r: (r.region, SIGNALS.index(r.signal), r.scope))
        for r in readings:
            signal, owed = _apply(conn, deps, r, now, notify=poster is not None)
            result.signals.append(signal)
            for o in owed:
                _insert_owed(conn, o, now)
        # Signals that could not be read this sweep keep their level; say so rather than leave them out.
        read = {(r.signal, r.region, r.scope) for r in readings}
        regions = set(deps.settings.regions)
        for row in _rows(conn, "SELECT * FROM alert_state ORDER BY region, signal, scope"):
            key = (row["signal"], row["region"], row["scope"])
            if key not in read and row["region"] in regions and row["signal"] in SIGNALS:
                result.signals.append(Signal(*key, row["value"], bool(row["estimate"]), row["level"], row["level"]))
        result.signals.sort(key=lambda s: (s.region, SIGNALS.index(s.signal), s.scope))
    if poster is not None:
        result.posted, result.pending = deliver(deps, poster, now)
    return result
